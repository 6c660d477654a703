package middleware_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/middleware"
)

// recordingStep appends its name to *log when its request func runs.
func recordingStep(name string, log *[]string) middleware.Step {
	return middleware.Step{Name: name, Request: func(*http.Request) error {
		*log = append(*log, name)
		return nil
	}}
}

func TestStackEdits(t *testing.T) {
	t.Parallel()
	var log []string
	base := func() *middleware.Stack {
		s, err := middleware.NewStack(recordingStep("headers", &log), recordingStep("signer", &log),
			middleware.Step{Name: "verifier", Response: func(*http.Response, []byte) error { return nil }})
		require.NoError(t, err)
		return s
	}
	tests := []struct {
		name string
		edit func(*middleware.Stack) error
		want []string
	}{
		{"append", func(s *middleware.Stack) error { return s.Append(recordingStep("log", &log)) },
			[]string{"headers", "signer", "verifier", "log"}},
		{"before", func(s *middleware.Stack) error { return s.InsertBefore("signer", recordingStep("tag", &log)) },
			[]string{"headers", "tag", "signer", "verifier"}},
		{"after", func(s *middleware.Stack) error { return s.InsertAfter("signer", recordingStep("log", &log)) },
			[]string{"headers", "signer", "log", "verifier"}},
		{"replace keeps the name", func(s *middleware.Stack) error {
			_, err := s.Replace("signer", middleware.Step{Request: func(*http.Request) error { return nil }})
			return err
		}, []string{"headers", "signer", "verifier"}},
		{"replace with a new name", func(s *middleware.Stack) error {
			_, err := s.Replace("signer", recordingStep("kms", &log))
			return err
		},
			[]string{"headers", "kms", "verifier"}},
		{"remove", middleware.Without("verifier"), []string{"headers", "signer"}},
		{"remove two", middleware.Without("headers", "verifier"), []string{"signer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			clone := s.Clone()
			require.NoError(t, tt.edit(clone))
			assert.Equal(t, tt.want, clone.Names())
			assert.Equal(t, []string{"headers", "signer", "verifier"}, s.Names(), "editing a clone must not change the original")
		})
	}
}

func TestStackEditErrors(t *testing.T) {
	t.Parallel()
	s, err := middleware.NewStack(middleware.Step{Name: "signer", Request: func(*http.Request) error { return nil }})
	require.NoError(t, err)
	noop := func(*http.Request) error { return nil }
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unknown name", s.InsertBefore("verifer", middleware.Step{Name: "x", Request: noop}), `no step named "verifer"; the stack holds [signer]`},
		{"remove unknown", second(s.Remove("nope")), `no step named "nope"`},
		{"duplicate", s.Append(middleware.Step{Name: "signer", Request: noop}), `a step named "signer" is already in the stack`},
		{"no name", s.Append(middleware.Step{Request: noop}), "a step needs a name"},
		{"no funcs", s.Append(middleware.Step{Name: "empty"}), `step "empty" has no Request, Response or Stream func`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Error(t, tt.err)
			assert.Contains(t, tt.err.Error(), tt.want)
		})
	}
	assert.Equal(t, []string{"signer"}, s.Names(), "failed edits leave the stack as it was")
}

// second returns the error of a call that also returns a step.
func second(_ middleware.Step, err error) error { return err }

func TestStackStopsAtFirstError(t *testing.T) {
	t.Parallel()
	var log []string
	boom := errors.New("boom")
	s, err := middleware.NewStack(recordingStep("a", &log),
		middleware.Step{Name: "fail", Request: func(*http.Request) error { return boom }},
		recordingStep("c", &log))
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodGet, "http://example.test/", nil)
	assert.ErrorIs(t, s.HandleRequest(req), boom)
	assert.Equal(t, []string{"a"}, log)
}
