package zerotest

import (
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type withErr struct{ err error }

func (w withErr) Err() error { return w.err }

type withWait struct{}

func (withWait) Wait() (int, error) { return 0, errors.New("wait failed: sentinel-7f3a9c") }

// TestOutcome: the results a walk reads errors from.
func TestOutcome(t *testing.T) {
	t.Parallel()
	var nilChan chan struct{}
	var nilErr error
	failing := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no: sentinel-51bd02", http.StatusTeapot) })
	for _, tc := range []struct {
		name    string
		results []any
		want    string // "" means no error
	}{
		{"an error", []any{1, errors.New("boom: sentinel-0c1e77")}, "boom: sentinel-0c1e77"},
		{"a nil error", []any{1, &nilErr}, ""},
		{"a nil channel", []any{nilChan}, "a nil channel"},
		{"an open channel", []any{make(chan struct{})}, ""},
		{"Err()", []any{withErr{errors.New("chain: sentinel-93d1aa")}}, "chain: sentinel-93d1aa"},
		{"Err() nil", []any{withErr{}}, ""},
		{"Wait()", []any{withWait{}}, "wait failed: sentinel-7f3a9c"},
		{"a failing handler", []any{failing}, "HTTP 418: no: sentinel-51bd02"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			values := make([]reflect.Value, len(tc.results))
			for i, r := range tc.results {
				values[i] = reflect.ValueOf(r)
				if p, ok := r.(*error); ok {
					values[i] = reflect.ValueOf(p).Elem()
				}
			}
			err := Outcome(values)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestDeclared reads this package's own exported names.
func TestDeclared(t *testing.T) {
	t.Parallel()
	types, funcs := Declared(t, ".")
	if want := []string{"Walk"}; !slices.Equal(types, want) {
		t.Errorf("types %v, want %v", types, want)
	}
	if want := []string{"Arg", "Args", "Call", "CallWant", "Covered", "Declared", "Outcome"}; !slices.Equal(funcs, want) {
		t.Errorf("funcs %v, want %v", funcs, want)
	}
}

// TestCallReturns: Call gives fn's error back.
func TestCallReturns(t *testing.T) {
	t.Parallel()
	want := errors.New("sentinel-2d6f40")
	if err := Call(t, func() error { return want }); err != want {
		t.Errorf("Call returned %v", err)
	}
}
