package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Names of the steps a Builder installs, in their default order.
const (
	HeadersStep  = "headers"  // Accept, User-Agent and Wechatpay-Serial
	SignerStep   = "signer"   // the Authorization header
	VerifierStep = "verifier" // the Wechatpay-Signature of 2xx responses
)

// Step is one named piece of middleware. Either func may be nil; a step with
// both can, for example, time a request and log its response.
type Step struct {
	// Name identifies the step, for InsertBefore, InsertAfter, Replace and
	// Remove; it is required and unique in a stack.
	Name string
	// Request prepares an outgoing request. It must not read req.Body: use
	// req.GetBody, which gives the exact bytes that will be sent.
	Request func(req *http.Request) error
	// Response inspects a response. body is the raw body that was received;
	// resp.Body has already been consumed.
	Response func(resp *http.Response, body []byte) error
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

// Replace puts step in the place of the step called name. The new step keeps
// the old name when its own Name is empty.
func (s *Stack) Replace(name string, step Step) error {
	i, err := s.find(name)
	if err != nil {
		return err
	}
	if step.Name == "" {
		step.Name = name
	}
	if err := s.check(step, i); err != nil {
		return err
	}
	s.steps[i] = step
	return nil
}

// Remove takes the step called name out of the stack.
func (s *Stack) Remove(name string) error {
	i, err := s.find(name)
	if err != nil {
		return err
	}
	s.steps = append(s.steps[:i:i], s.steps[i+1:]...)
	return nil
}

// HandleRequest runs every Request func in order and stops at the first
// error. A nil stack is an error: the request would go unsigned.
func (s *Stack) HandleRequest(req *http.Request) error {
	if s == nil {
		return errNilStack
	}
	for _, step := range s.steps {
		if step.Request != nil {
			if err := step.Request(req); err != nil {
				return err
			}
		}
	}
	return nil
}

// HandleResponse runs every Response func in order and stops at the first
// error. A nil stack is an error: the answer would go unverified.
func (s *Stack) HandleResponse(resp *http.Response, body []byte) error {
	if s == nil {
		return errNilStack
	}
	for _, step := range s.steps {
		if step.Response != nil {
			if err := step.Response(resp, body); err != nil {
				return err
			}
		}
	}
	return nil
}

// Without returns an edit that removes the named steps, for use where an edit
// function is expected (the Builder's per-request and per-builder options):
//
//	wechatpay.Options{Middleware: middleware.Without(middleware.VerifierStep)}
func Without(names ...string) func(*Stack) error {
	return func(s *Stack) error {
		for _, name := range names {
			if err := s.Remove(name); err != nil {
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
	if step.Request == nil && step.Response == nil {
		return fmt.Errorf("middleware: step %q has neither a Request nor a Response func", step.Name)
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
