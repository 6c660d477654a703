package wechatpaytest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Simulator is a fake WeChat Pay that remembers: orders placed through it
// can be paid or declined by a simulated payer, queried, closed, expire,
// are refunded and appear in the day's bills; pre-signed contracts can be
// signed and terminated; every change WeChat Pay notifies is sent to the
// notify_url given, encrypted and signed, and retried on WeChat Pay's
// schedule until the receiver answers 2xx.
//
// It is a Server (every Server method works, Handle takes precedence over
// the simulation) whose state lives in memory and is safe for concurrent
// use. Start it with NewSimulator and Close it when done.
//
// Time: with WithVirtualClock the simulation's clock stands still until
// Advance moves it, so a test of a whole day (expiry, retries, a refund
// settling, tomorrow's bill) runs in milliseconds. Otherwise it follows the
// machine's clock, and Advance moves it ahead. Notifications are always
// signed with the machine's time, which the receiver checks against its
// own; the times inside them (create_time, success_time) are the
// simulation's.
type Simulator struct {
	*Server

	mu        sync.Mutex
	clock     simClock
	seq       int64
	orders    map[string]*Order    // by out_trade_no
	txByID    map[string]*Order    // by transaction_id
	refunds   map[string]*Refund   // by out_refund_no
	refByID   map[string]*Refund   // by refund_id
	contract  map[string]*Contract // by contract_id
	byCode    map[string]*Contract // by out_contract_code
	notes     []*Notification      // in the order they were made
	events    []event              // sorted by (at, seq)
	client    *http.Client         // delivers notifications
	ownClient bool                 // client is the Simulator's own: Close closes its connections
	closed    bool
	inflight  int             // delivery attempts under way
	idle      *sync.Cond      // on mu: inflight fell to 0
	ctx       context.Context // cancelled by Close: attempts under way give up
	cancel    context.CancelFunc

	runMu   sync.Mutex    // one runner of due events at a time
	wake    chan struct{} // a new event was scheduled (machine clock)
	stop    chan struct{}
	stopped chan struct{}
}

// cst is the zone WeChat Pay writes its times in (+08:00); fixed, so that
// nothing depends on the machine's time zone database.
var cst = time.FixedZone("CST", 8*3600)

// wxTime writes t as WeChat Pay does: RFC 3339 in +08:00.
func wxTime(t time.Time) string { return t.In(cst).Format(time.RFC3339) }

// simClock is the simulation's clock: virtual (stands still) or the
// machine's plus what Advance added.
type simClock struct {
	virtual bool
	at      time.Time     // virtual: now
	offset  time.Duration // machine: added by Advance
}

func (c *simClock) now() time.Time {
	if c.virtual {
		return c.at
	}
	return time.Now().Add(c.offset)
}

// set moves the clock forward to t (never back).
func (c *simClock) set(t time.Time) {
	now := c.now()
	if !t.After(now) {
		return
	}
	if c.virtual {
		c.at = t
	} else {
		c.offset += t.Sub(now)
	}
}

// event is something the simulation does at a time: a notification
// attempt, a refund settling.
type event struct {
	at  time.Time
	seq int64
	run func()
}

// simSettings are the Options that only a Simulator reads.
type simSettings struct {
	virtual      bool
	start        time.Time
	notifyClient *http.Client
}

// WithVirtualClock starts a Simulator's clock at start and keeps it there
// until Advance moves it: the simulation's times then depend on nothing
// but the test. A Server ignores it.
func WithVirtualClock(start time.Time) Option {
	return func(s *Server) { s.sim.virtual, s.sim.start = true, start }
}

// WithNotifyClient sends a Simulator's notifications with c instead of a
// client with WeChat Pay's 5-second timeout and no proxy (a test's
// httptest.NewTLSServer receiver needs its Client). A Server ignores it.
func WithNotifyClient(c *http.Client) Option {
	return func(s *Server) { s.sim.notifyClient = c }
}

// NewSimulator starts a fake WeChat Pay that simulates the life of orders,
// refunds and contracts; opts are the Server's (WithTLS, WithAddr, ...) and
// the simulation's (WithVirtualClock, WithNotifyClient). Close it when done.
func NewSimulator(opts ...Option) *Simulator {
	srv := NewServer(opts...)
	sim := &Simulator{
		Server:   srv,
		orders:   map[string]*Order{},
		txByID:   map[string]*Order{},
		refunds:  map[string]*Refund{},
		refByID:  map[string]*Refund{},
		contract: map[string]*Contract{},
		byCode:   map[string]*Contract{},
		client:   srv.sim.notifyClient,
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	if sim.client == nil {
		// WeChat Pay follows no redirect: a 3xx is a failed delivery.
		sim.client = &http.Client{Timeout: notifyTimeout, Transport: &http.Transport{Proxy: nil},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		sim.ownClient = true
	}
	sim.idle = sync.NewCond(&sim.mu)
	sim.ctx, sim.cancel = context.WithCancel(context.Background())
	sim.clock = simClock{virtual: srv.sim.virtual, at: srv.sim.start}
	sim.routePayments()
	sim.routeRefunds()
	sim.routeContracts()
	sim.routeBills()
	sim.routeV2()
	if sim.clock.virtual {
		close(sim.stopped)
	} else {
		go sim.runner()
	}
	return sim
}

// errSimNotRunning is the answer of a Simulator that NewSimulator did not
// start (a nil pointer, or a Simulator{} literal), or that was closed.
var errSimNotRunning = errors.New("wechatpaytest: the Simulator is not running: create it with NewSimulator")

// live reports whether NewSimulator started s and Close has not stopped
// it; the methods of one that is not live do nothing, report nothing or
// return errSimNotRunning.
func (s *Simulator) live() bool {
	if s == nil || s.orders == nil || !s.Server.running() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed
}

// Close stops the simulation: attempts to deliver a notification under way
// give up, no more are made, and the server closes. It is safe to call
// more than once.
func (s *Simulator) Close() {
	if s == nil || s.orders == nil || !s.Server.running() {
		return
	}
	s.mu.Lock()
	already := s.closed
	s.closed = true
	s.mu.Unlock()
	if already {
		return
	}
	s.cancel()
	close(s.stop)
	<-s.stopped
	s.mu.Lock()
	for s.inflight > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
	if s.ownClient {
		s.client.CloseIdleConnections()
	}
	s.Server.Close()
}

// Now is the simulation's time, in +08:00 as WeChat Pay writes it.
func (s *Simulator) Now() time.Time {
	if !s.live() {
		return time.Time{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// now is Now for a caller holding s.mu.
func (s *Simulator) now() time.Time { return s.clock.now().In(cst) }

// Advance moves the simulation's clock forward by d and does, in order and
// each at its own time, what falls due meanwhile: notification attempts,
// refunds settling. It returns once they are done. A notify handler must
// not call it: it waits for the delivery the handler is answering.
func (s *Simulator) Advance(d time.Duration) {
	if !s.live() {
		return
	}
	d = max(d, 0)
	s.runMu.Lock()
	defer s.runMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settled()
	target := s.clock.now().Add(d)
	for len(s.events) > 0 && !s.events[0].at.After(target) && !s.closed {
		ev := s.events[0]
		s.events = s.events[1:]
		s.clock.set(ev.at)
		s.mu.Unlock()
		ev.run()
		s.mu.Lock()
		// The attempts it started end before time moves on: a failed one
		// schedules the next on the schedule.
		s.settled()
	}
	s.clock.set(target)
}

// settled waits until no delivery attempt is under way; the caller holds
// s.mu, which the wait releases meanwhile.
func (s *Simulator) settled() {
	for s.inflight > 0 {
		s.idle.Wait()
	}
}

// schedule has fn run at at; the caller holds s.mu. fn runs without it.
func (s *Simulator) schedule(at time.Time, fn func()) {
	s.seq++
	ev := event{at: at, seq: s.seq, run: fn}
	i, _ := slices.BinarySearchFunc(s.events, ev, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return int(a.seq - b.seq)
	})
	s.events = slices.Insert(s.events, i, ev)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// runDue does what is due now on the machine's clock, in order. Attempts
// it starts run on their own: a slow receiver delays no other.
func (s *Simulator) runDue() {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	for {
		s.mu.Lock()
		if len(s.events) == 0 || s.events[0].at.After(s.clock.now()) || s.closed {
			s.mu.Unlock()
			return
		}
		ev := s.events[0]
		s.events = s.events[1:]
		s.mu.Unlock()
		ev.run()
	}
}

// runner does what falls due on the machine's clock, until Close.
func (s *Simulator) runner() {
	defer close(s.stopped)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.runDue()
		s.mu.Lock()
		wait := time.Hour
		if len(s.events) > 0 {
			wait = max(s.events[0].at.Sub(s.clock.now()), 0)
		}
		s.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-s.stop:
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// nextID returns prefix followed by digits unique in this simulation, in
// the length WeChat Pay's ids have (28 for transaction_id, ...): the
// simulation's date, then a sequence number.
func (s *Simulator) nextID(prefix string, length int) string {
	s.seq++
	date := s.now().Format("20060102")
	return fmt.Sprintf("%s%s%0*d", prefix, date, max(length-len(prefix)-len(date), 1), s.seq)
}

// SimError is a simulated WeChat Pay refusal: the answer's HTTP status,
// code and message. The Simulator's methods (Pay, SignContract, ...) return
// it, and its handlers answer with it, as WeChat Pay would.
type SimError struct {
	Status  int    // 400, 403, 404, ...
	Code    string // PARAM_ERROR, ORDER_CLOSED, ORDERPAID, NOT_ENOUGH, ...
	Message string
}

func (e *SimError) Error() string {
	if e == nil {
		return "<nil>"
	}
	return e.Code + ": " + e.Message
}

// refuse returns a *SimError.
func refuse(status int, code, format string, args ...any) *SimError {
	return &SimError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// writeRefusal answers err as WeChat Pay does: a *SimError with its status
// and code, anything else 500 SYSTEM_ERROR.
func writeRefusal(w http.ResponseWriter, err error) {
	if e, ok := err.(*SimError); ok {
		Error(w, e.Status, e.Code, e.Message)
		return
	}
	Error(w, http.StatusInternalServerError, "SYSTEM_ERROR", err.Error())
}
