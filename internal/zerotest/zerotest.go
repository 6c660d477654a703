// Package zerotest walks the zero values and nil pointers of a package's
// exported types in tests: it calls every exported method on them, and the
// package's functions with zero arguments, each in a goroutine, and fails
// on a panic or a call that does not return. A zero value must work or
// return an error that says what to use instead; a panic or a block for
// ever is a bug.
//
// Which types and functions a walk must hold is read from the package's
// source (Covered), so that an exported name added later without a case
// fails the test instead of going unchecked.
package zerotest

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
	"time"
)

// Bound is how long a call may take before it counts as blocked for ever.
// It is a hang detector, not a timing assertion: every call here returns
// in microseconds.
const Bound = 10 * time.Second

// Expect is what one call must give.
type Expect struct {
	// Err is a text the call's error must contain: it says what to use
	// instead. Empty means the call must work, with no error.
	Err string
	// Check, when set, looks at the results of a call that worked.
	Check func(results []reflect.Value) error
}

// Walk is the zero values and functions of one package.
type Walk struct {
	// Values are zero values, T{} (or a nil map or slice): every exported
	// method of *T is called on a fresh one ("T.Method/zero"), and every
	// method declared with a pointer receiver on (*T)(nil)
	// ("T.Method/nil").
	Values []any
	// Funcs are package functions by name, called with zero arguments
	// ("Name").
	Funcs map[string]any
	// Skip names functions left out of Funcs, each with the reason.
	Skip map[string]string
	// Expect is what calls must give, by call name ("T.Method/zero"), or
	// for every call of a type and variant that can fail ("T/zero",
	// "T/nil": methods whose results hold an error, or a value that Outcome
	// looks into). A call without an entry must work.
	Expect map[string]Expect
}

// Run calls everything w holds, each call in a subtest.
func (w Walk) Run(t *testing.T) {
	t.Helper()
	used := map[string]bool{}
	expect := func(keys ...string) Expect {
		for _, k := range keys {
			if e, ok := w.Expect[k]; ok {
				used[k] = true
				return e
			}
		}
		return Expect{}
	}
	for _, v := range w.Values {
		typ := reflect.TypeOf(v)
		name := typ.Name()
		ptr := reflect.PointerTo(typ)
		for i := 0; i < ptr.NumMethod(); i++ {
			m := ptr.Method(i)
			fallible := canFail(m.Type)
			key := name + "." + m.Name + "/zero"
			e := expect(key, fallback(fallible, name+"/zero"))
			t.Run(key, func(t *testing.T) {
				recv := reflect.New(typ)
				recv.Elem().Set(reflect.ValueOf(v))
				check(t, recv.MethodByName(m.Name), e)
			})
			if _, byValue := typ.MethodByName(m.Name); byValue {
				continue // calling it through a nil pointer is Go's own nil dereference
			}
			key = name + "." + m.Name + "/nil"
			e = expect(key, fallback(fallible, name+"/nil"))
			t.Run(key, func(t *testing.T) {
				check(t, reflect.Zero(ptr).MethodByName(m.Name), e)
			})
		}
	}
	names := make([]string, 0, len(w.Funcs))
	for n := range w.Funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := expect(n)
		t.Run(n, func(t *testing.T) { check(t, reflect.ValueOf(w.Funcs[n]), e) })
	}
	for k := range w.Expect {
		if !used[k] {
			t.Errorf("Expect[%q] matches no call: a typo, or a method that is gone", k)
		}
	}
}

// fallback is the type-wide key of a call that can fail, "" (matching no
// entry) for one that cannot.
func fallback(fallible bool, key string) string {
	if fallible {
		return key
	}
	return ""
}

// canFail reports whether a method's results can carry an error as
// Outcome reads them.
func canFail(fn reflect.Type) bool {
	for i := 0; i < fn.NumOut(); i++ {
		out := fn.Out(i)
		if out.Implements(errorType) || out.Implements(handlerType) || out.Kind() == reflect.Chan {
			return true
		}
		if _, ok := out.MethodByName("Err"); ok {
			return true
		}
		if _, ok := out.MethodByName("Wait"); ok {
			return true
		}
	}
	return false
}

// check calls fn with the arguments of Args and checks the outcome.
func check(t *testing.T, fn reflect.Value, e Expect) {
	t.Helper()
	var results []reflect.Value
	err := CallWant(t, func() error {
		results = fn.Call(Args(fn.Type()))
		return Outcome(results)
	}, e.Err)
	if !t.Failed() && err == nil && e.Check != nil {
		if err := e.Check(results); err != nil {
			t.Error(err)
		}
	}
}

// CallWant is Call, then a check of its error: none when want is empty,
// else one that says want. It returns the error for further checks.
func CallWant(t *testing.T, fn func() error, want string) error {
	t.Helper()
	err := Call(t, fn)
	switch {
	case t.Failed():
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Errorf("no error; expected one saying %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("the error %q does not say %q", err, want)
	}
	return err
}

// Call runs fn in a goroutine and returns its error. It fails t if fn
// panics or does not return within Bound.
func Call(t *testing.T, fn func() error) error {
	t.Helper()
	type result struct {
		err   error
		panic any
		stack []byte
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{panic: p, stack: debug.Stack()}
			}
		}()
		done <- result{err: fn()}
	}()
	timer := time.NewTimer(Bound)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.panic != nil {
			t.Errorf("PANIC: %v\n%s", r.panic, r.stack)
		}
		return r.err
	case <-timer.C:
		t.Errorf("HANG: did not return within %s", Bound)
		return nil
	}
}

var (
	contextType  = reflect.TypeFor[context.Context]()
	requestType  = reflect.TypeFor[*http.Request]()
	responseType = reflect.TypeFor[*http.Response]()
	writerType   = reflect.TypeFor[http.ResponseWriter]()
	headerType   = reflect.TypeFor[http.Header]()
	ioWriterType = reflect.TypeFor[io.Writer]()
	ioReaderType = reflect.TypeFor[io.Reader]()
	errorType    = reflect.TypeFor[error]()
	handlerType  = reflect.TypeFor[http.Handler]()
	stateType    = reflect.TypeFor[fmt.State]()
)

// state is a fmt.State that keeps what is printed.
type state struct{ strings.Builder }

func (*state) Width() (int, bool)     { return 0, false }
func (*state) Precision() (int, bool) { return 0, false }
func (*state) Flag(int) bool          { return false }

// Args returns the arguments a walk calls fn with: the zero value of each
// parameter (none for a variadic one), except for what no caller passes
// as nil: a background context, a POST request with an empty body, a 200
// response to a GET, a recorder, an empty header, io.Discard and an empty
// reader, and a fmt.State.
func Args(fn reflect.Type) []reflect.Value {
	n := fn.NumIn()
	if fn.IsVariadic() {
		n--
	}
	args := make([]reflect.Value, n)
	for i := range args {
		args[i] = Arg(fn.In(i))
	}
	return args
}

// Arg is one argument of Args.
func Arg(typ reflect.Type) reflect.Value {
	var v any
	switch typ {
	case contextType:
		v = context.Background()
	case requestType:
		v = httptest.NewRequest(http.MethodPost, "http://127.0.0.1/v3/zero", strings.NewReader(""))
	case responseType:
		v = &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody,
			Request: httptest.NewRequest(http.MethodGet, "http://127.0.0.1/v3/zero", nil)}
	case writerType:
		v = httptest.NewRecorder()
	case headerType:
		v = http.Header{}
	case ioWriterType:
		v = io.Discard
	case ioReaderType:
		v = strings.NewReader("")
	case stateType:
		v = &state{}
	default:
		return reflect.Zero(typ)
	}
	out := reflect.New(typ).Elem()
	out.Set(reflect.ValueOf(v))
	return out
}

// Outcome is the error a call's results give: an error result; else the
// Err() of a result that has one (a chain), the error of Wait() (a
// future), the answer of a handler to a POST if it is not 2xx; a nil
// channel, on which a receive blocks for ever, is an error too.
func Outcome(results []reflect.Value) error {
	for _, r := range results {
		if err := outcome(r); err != nil {
			return err
		}
	}
	return nil
}

func outcome(r reflect.Value) error {
	if nilable(r) && r.IsNil() {
		if r.Kind() == reflect.Chan {
			return errors.New("a nil channel: receiving from it blocks for ever")
		}
		return nil
	}
	if r.Type().Implements(errorType) {
		return r.Interface().(error)
	}
	if m := r.MethodByName("Err"); m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() == 1 && m.Type().Out(0) == errorType {
		if err, _ := m.Call(nil)[0].Interface().(error); err != nil {
			return err
		}
	}
	if m := r.MethodByName("Wait"); m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() > 0 && m.Type().Out(m.Type().NumOut()-1) == errorType {
		out := m.Call(nil)
		if err, _ := out[len(out)-1].Interface().(error); err != nil {
			return err
		}
	}
	if h, ok := r.Interface().(http.Handler); ok {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "http://127.0.0.1/notify", strings.NewReader("")))
		if rec.Code < 200 || rec.Code > 299 {
			return fmt.Errorf("HTTP %d: %s", rec.Code, strings.TrimSpace(rec.Body.String()))
		}
	}
	return nil
}

func nilable(r reflect.Value) bool {
	switch r.Kind() {
	case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer, reflect.Slice:
		return true
	}
	return false
}

// Covered fails t for each exported type with exported methods, and each
// exported function, declared in the package in dir (its non-test files)
// that w does not hold: a name added later must get its case.
func Covered(t *testing.T, dir string, w Walk) {
	t.Helper()
	types, funcs := Declared(t, dir)
	have := map[string]bool{}
	for _, v := range w.Values {
		have[reflect.TypeOf(v).Name()] = true
	}
	for _, name := range types {
		if !have[name] {
			t.Errorf("type %s has exported methods but no zero value in the walk", name)
		}
	}
	for _, name := range funcs {
		_, called := w.Funcs[name]
		_, skipped := w.Skip[name]
		if !called && !skipped {
			t.Errorf("function %s is neither in Walk.Funcs nor in Walk.Skip", name)
		}
	}
}

// Declared lists, sorted, the exported types that have exported methods
// and the exported functions declared in dir's non-test Go files.
func Declared(t *testing.T, dir string) (types, funcs []string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := map[string]bool{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !fd.Name.IsExported() {
				continue
			}
			if fd.Recv == nil {
				funcs = append(funcs, fd.Name.Name)
				continue
			}
			recv := fd.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			if idx, ok := recv.(*ast.IndexExpr); ok {
				recv = idx.X
			}
			if id, ok := recv.(*ast.Ident); ok && id.IsExported() && !seen[id.Name] {
				seen[id.Name] = true
				types = append(types, id.Name)
			}
		}
	}
	sort.Strings(types)
	sort.Strings(funcs)
	return types, funcs
}
