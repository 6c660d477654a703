package wechatpay

import (
	"errors"
	"fmt"
)

// Future is the result of an ...Async call, available once the request ends.
// Cancel the context given to the call to stop the request early. A
// Future{} or nil *Future is done at once, with an error.
type Future struct {
	done chan struct{}
	resp *Response
	err  error
}

// goFuture runs fn in a goroutine that ends when fn returns; a panic in fn
// (a user's continuation) becomes the future's error instead of crashing a
// goroutine nobody can recover in.
func goFuture(fn func() (*Response, error)) *Future {
	f := &Future{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		defer func() {
			if p := recover(); p != nil {
				f.resp, f.err = nil, fmt.Errorf("wechatpay: a future's function panicked: %v", p)
			}
		}()
		f.resp, f.err = fn()
	}()
	return f
}

// errNoFuture is the result of a Future that no ...Async verb made: there
// is no request whose end it could wait for.
var errNoFuture = errors.New("wechatpay: this Future was not made by an ...Async verb (GetAsync, PostAsync, ...) or Then/Otherwise: it has no request to wait for")

// closed is the Done channel of a Future that no ...Async verb made: its
// (error) result is ready at once.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Wait blocks until the request ends and returns its result.
func (f *Future) Wait() (*Response, error) {
	if f == nil || f.done == nil {
		return nil, errNoFuture
	}
	<-f.done
	return f.resp, f.err
}

// Done is closed when the result is ready, for use in select; at once for
// a Future that no ...Async verb made.
func (f *Future) Done() <-chan struct{} {
	if f == nil || f.done == nil {
		return closed
	}
	return f.done
}

// Then returns a future for fn applied to this future's response. fn runs
// only on success (in its own goroutine, so it may send requests with the
// blocking verbs); an error skips fn and passes through.
func (f *Future) Then(fn func(*Response) (*Response, error)) *Future {
	if fn == nil {
		return goFuture(func() (*Response, error) { return nil, errors.New("wechatpay: Then(nil): expected a function") })
	}
	return goFuture(func() (*Response, error) {
		resp, err := f.Wait()
		if err != nil {
			return nil, err
		}
		return fn(resp)
	})
}

// Otherwise returns a future for fn applied to this future's error, the
// counterpart of wechatpay-php's ->otherwise(): fn runs only on failure (in
// its own goroutine, so it may send requests with the blocking verbs), and
// a success skips fn and passes through. What fn returns is the new result:
// a response recovers from the failure, an error (the one given, or one
// wrapping it) passes it on, and nil, nil handles it, as PHP's otherwise
// that returns nothing: Wait then returns no response and no error. An
// *APIError in err (errors.As) is PHP's RequestException with its response.
func (f *Future) Otherwise(fn func(error) (*Response, error)) *Future {
	if fn == nil {
		return goFuture(func() (*Response, error) { return nil, errors.New("wechatpay: Otherwise(nil): expected a function") })
	}
	return goFuture(func() (*Response, error) {
		resp, err := f.Wait()
		if err == nil {
			return resp, nil
		}
		return fn(err)
	})
}

// WaitAll waits for every future and returns their responses in order. The
// error joins every failure, each prefixed with its future's index; the
// response of a failed future is nil.
func WaitAll(futures ...*Future) ([]*Response, error) {
	out := make([]*Response, len(futures))
	var errs []error
	for i, f := range futures {
		if f == nil {
			errs = append(errs, fmt.Errorf("future %d is nil", i))
			continue
		}
		resp, err := f.Wait()
		out[i] = resp
		if err != nil {
			errs = append(errs, fmt.Errorf("future %d: %w", i, err))
		}
	}
	return out, errors.Join(errs...)
}
