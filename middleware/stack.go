package middleware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Names of the steps a Builder installs, in their default order.
const (
	HeadersStep  = "headers"  // Accept, User-Agent and Wechatpay-Serial
	SignerStep   = "signer"   // the Authorization header
	VerifierStep = "verifier" // the Wechatpay-Signature of 2xx responses
)

// Step is one named piece of middleware. Any of its funcs may be nil, but
// not all three; a step with Request and Response can, for example, time a
// request and log its response.
type Step struct {
	// Name identifies the step, for InsertBefore, InsertAfter, Replace and
	// Remove; it is required and unique in a stack.
	Name string
	// Request prepares an outgoing request, once per attempt (a retry, the
	// backup host), in the transport (see Stack.Transport). It must not
	// read req.Body: use req.GetBody, which gives the exact bytes that will
	// be sent.
	Request func(req *http.Request) error
	// Response inspects an answer held in memory. body is the raw body that
	// was received; resp.Body has already been consumed. A step without
	// Response but with Stream is given a held answer through Stream.
	Response func(resp *http.Response, body []byte) error
	// Stream inspects an answer whose body is streamed rather than held (a
	// download to an Options.Sink): w receives every byte of the body as it
	// arrives (nil: the step does not need the body), and done is called
	// after the last one (nil: nothing to check). What was streamed may be
	// used only when every done returned nil. A step with Response but no
	// Stream is given the whole body at the end, held in memory up to the
	// answer limit: a step that does not need the body of a download should
	// have a Stream func that returns a nil w.
	Stream func(resp *http.Response) (w io.Writer, done func() error, err error)
}

// Stack is an ordered list of uniquely named steps. A Builder keeps one and
// never changes it after construction; per-request edits work on a Clone.
// A Stack{} is empty and ready to use; a nil *Stack reads as empty, but
// adding to it or running it is an error.
type Stack struct {
	steps []Step
}

// NewStack returns a stack holding steps in the given order.
func NewStack(steps ...Step) (*Stack, error) {
	s := &Stack{}
	for _, step := range steps {
		if err := s.Append(step); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// errNilStack is the error of a nil *Stack: it cannot hold a step, and
// running it would send a request unsigned or take an answer unverified.
var errNilStack = errors.New("middleware: the Stack is nil: create it with NewStack (a Stack{} is an empty stack)")

// Clone returns a copy that can be edited without touching s; an empty
// stack for a nil s.
func (s *Stack) Clone() *Stack {
	if s == nil {
		return &Stack{}
	}
	return &Stack{steps: append([]Step(nil), s.steps...)}
}

// Names lists the steps in order.
func (s *Stack) Names() []string {
	if s == nil {
		return []string{}
	}
	names := make([]string, len(s.steps))
	for i, step := range s.steps {
		names[i] = step.Name
	}
	return names
}

// Has reports whether a step with that name is in the stack.
func (s *Stack) Has(name string) bool { return s.index(name) >= 0 }

// Append adds step at the end.
func (s *Stack) Append(step Step) error {
	if s == nil {
		return errNilStack
	}
	return s.insert(len(s.steps), step)
}

// InsertBefore adds step just before the step called name.
func (s *Stack) InsertBefore(name string, step Step) error {
	i, err := s.find(name)
	if err != nil {
		return err
	}
	return s.insert(i, step)
}

// InsertAfter adds step just after the step called name.
func (s *Stack) InsertAfter(name string, step Step) error {
	i, err := s.find(name)
	if err != nil {
		return err
	}
	return s.insert(i+1, step)
}

// Replace puts step in the place of the step called name and returns the
// step it took out, so that the new step can wrap it (call the old
// Request, then add to it). The new step keeps the old name when its own
// Name is empty.
func (s *Stack) Replace(name string, step Step) (Step, error) {
	i, err := s.find(name)
	if err != nil {
		return Step{}, err
	}
	if step.Name == "" {
		step.Name = name
	}
	if err := s.check(step, i); err != nil {
		return Step{}, err
	}
	old := s.steps[i]
	s.steps[i] = step
	return old, nil
}

// Remove takes the step called name out of the stack and returns it.
func (s *Stack) Remove(name string) (Step, error) {
	i, err := s.find(name)
	if err != nil {
		return Step{}, err
	}
	old := s.steps[i]
	s.steps = append(s.steps[:i:i], s.steps[i+1:]...)
	return old, nil
}

// HandleRequest runs every Request func in order and stops at the first
// error, returned as a *StepError naming the step. A nil stack is an
// error: the request would go unsigned.
func (s *Stack) HandleRequest(req *http.Request) error {
	if s == nil {
		return errNilStack
	}
	for _, step := range s.steps {
		if step.Request != nil {
			if err := step.Request(req); err != nil {
				return &StepError{Step: step.Name, Err: err}
			}
		}
	}
	return nil
}

// StepError is the error of a request step (HandleRequest, and the
// transports that run it): the request was not sent. A failover does not
// take it for an unreachable host, and a retry does not repeat it.
type StepError struct {
	Step string // the name of the step that failed
	Err  error  // what it returned
}

// Error is the step's error as it said it.
func (e *StepError) Error() string {
	if e == nil {
		return "middleware: a nil *StepError"
	}
	if e.Err == nil {
		return fmt.Sprintf("middleware: request step %q failed", e.Step)
	}
	return e.Err.Error()
}

// Unwrap returns the step's error, for errors.Is and errors.As.
func (e *StepError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// HandleResponse runs every Response func in order and stops at the first
// error; a step with a Stream func but no Response func is given the body
// through it (written at once, then done). A nil stack is an error: the
// answer would go unverified.
func (s *Stack) HandleResponse(resp *http.Response, body []byte) error {
	switch {
	case s == nil:
		return errNilStack
	case resp == nil:
		return errNilResponse
	}
	for _, step := range s.steps {
		var err error
		switch {
		case step.Response != nil:
			err = step.Response(resp, body)
		case step.Stream != nil:
			err = streamHeld(step.Stream, resp, body)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// errNilResponse is the error of a response step run without a response:
// there would be nothing to verify.
var errNilResponse = errors.New("middleware: the *http.Response is nil: there is no answer to run the response steps on")

// streamHeld gives an answer held in memory to a step that has only a
// Stream func: the body written at once, then done.
func streamHeld(stream func(*http.Response) (io.Writer, func() error, error), resp *http.Response, body []byte) error {
	w, done, err := stream(resp)
	if err != nil {
		return err
	}
	if w != nil {
		if _, err := w.Write(body); err != nil {
			return err
		}
	}
	if done != nil {
		return done()
	}
	return nil
}

// HandleStream prepares the response steps for an answer whose body is
// streamed: it calls every Stream func in order, and gives each step that
// has a Response func but no Stream func a copy of the body held in memory,
// up to limit bytes (0: no limit), for its Response func at the end. The
// body must be written to w as it arrives, then done called: the answer may
// be used only when done returns nil. A nil stack is an error.
func (s *Stack) HandleStream(resp *http.Response, limit int64) (w io.Writer, done func() error, err error) {
	switch {
	case s == nil:
		return nil, nil, errNilStack
	case resp == nil:
		return nil, nil, errNilResponse
	}
	var writers []io.Writer
	var dones []func() error
	for _, step := range s.steps {
		switch {
		case step.Stream != nil:
			w, done, err := step.Stream(resp)
			if err != nil {
				return nil, nil, err
			}
			if w != nil {
				writers = append(writers, w)
			}
			if done != nil {
				dones = append(dones, done)
			}
		case step.Response != nil:
			held := &heldBody{step: step.Name, limit: limit}
			respond := step.Response
			writers = append(writers, held)
			dones = append(dones, func() error { return respond(resp, held.data) })
		}
	}
	switch len(writers) {
	case 0:
		w = io.Discard
	case 1:
		w = writers[0]
	default:
		w = io.MultiWriter(writers...)
	}
	return w, func() error {
		for _, done := range dones {
			if err := done(); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// heldBody holds a streamed body for a step that has only a Response func.
type heldBody struct {
	step  string
	limit int64
	data  []byte
}

func (h *heldBody) Write(p []byte) (int, error) {
	if h.limit > 0 && int64(len(h.data))+int64(len(p)) > h.limit {
		return 0, fmt.Errorf("middleware: step %q has a Response func but no Stream func, so this streamed answer is held in memory for it, and it is larger than %d bytes: give the step a Stream func", h.step, h.limit)
	}
	h.data = append(h.data, p...)
	return len(p), nil
}

type stackKey struct{}

// WithStack returns a context carrying s: a transport made by
// Stack.Transport runs s instead of its own stack for requests made with
// it. The Builder uses it for a request's Options.Middleware and for APIv2.
func WithStack(ctx context.Context, s *Stack) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithValue(ctx, stackKey{}, s)
}

// StackFrom returns the stack ctx carries (WithStack), or def when it
// carries none.
func StackFrom(ctx context.Context, def *Stack) *Stack {
	if ctx == nil {
		return def
	}
	if s, ok := ctx.Value(stackKey{}).(*Stack); ok {
		return s
	}
	return def
}

// Transport returns an http.RoundTripper that runs the Request funcs of
// the stack the request's context carries (StackFrom, with s as the
// default) on a copy of each request (its headers copied, its URL shared),
// then hands the copy to base
// (http.DefaultTransport when nil). Beneath retries and failover, it signs
// every attempt anew, on every host. It runs no Response funcs: answers
// are read and verified by the caller (the Builder), which holds or
// streams them.
func (s *Stack) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{stack: s, base: base}
}

// transport is the RoundTripper of Stack.Transport, in the shape of
// golang.org/x/oauth2's: copy the request, set headers, delegate.
type transport struct {
	stack *Stack
	base  http.RoundTripper
}

// RoundTrip runs the request steps on a copy of req (a RoundTripper must
// not change the request it is given) and sends the copy.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	stack := StackFrom(req.Context(), t.stack)
	// A shallow copy with its own headers, as golang.org/x/oauth2 makes:
	// steps set headers. The URL is shared: a step that changes it must
	// give the copy a URL of its own.
	r := new(http.Request)
	*r = *req
	r.Header = req.Header.Clone()
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if err := stack.HandleRequest(r); err != nil {
		if req.Body != nil {
			req.Body.Close() // RoundTrip closes the body, even on an error
		}
		return nil, err
	}
	return t.base.RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of the transport
// underneath, as http.Client.CloseIdleConnections expects.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// Without returns an edit that removes the named steps, for use where an edit
// function is expected (the Builder's per-request and per-builder options):
//
//	wechatpay.Options{Middleware: middleware.Without(middleware.VerifierStep)}
func Without(names ...string) func(*Stack) error {
	return func(s *Stack) error {
		for _, name := range names {
			if _, err := s.Remove(name); err != nil {
				return err
			}
		}
		return nil
	}
}

func (s *Stack) index(name string) int {
	if s == nil {
		return -1
	}
	for i, step := range s.steps {
		if step.Name == name {
			return i
		}
	}
	return -1
}

func (s *Stack) find(name string) (int, error) {
	if s == nil {
		return -1, errNilStack
	}
	if i := s.index(name); i >= 0 {
		return i, nil
	}
	return -1, fmt.Errorf("middleware: no step named %q; the stack holds [%s]", name, strings.Join(s.Names(), ", "))
}

// check validates step for position at, ignoring the step currently there
// when it is being replaced.
func (s *Stack) check(step Step, at int) error {
	if step.Name == "" {
		return errors.New("middleware: a step needs a name")
	}
	if step.Request == nil && step.Response == nil && step.Stream == nil {
		return fmt.Errorf("middleware: step %q has no Request, Response or Stream func", step.Name)
	}
	if i := s.index(step.Name); i >= 0 && i != at {
		return fmt.Errorf("middleware: a step named %q is already in the stack", step.Name)
	}
	return nil
}

func (s *Stack) insert(at int, step Step) error {
	if err := s.check(step, -1); err != nil {
		return err
	}
	s.steps = append(s.steps[:at:at], append([]Step{step}, s.steps[at:]...)...)
	return nil
}
