package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// The generic messages of Handler's FAIL answers. Anyone can POST to a
// notify_url, so an answer says no more than these; the details go to
// Handler.Logger. WeChat Pay goes by the status, not the message.
const (
	msgMethod     = "method not allowed"
	msgTooLarge   = "notification too large"
	msgMalformed  = "malformed notification"
	msgInvalid    = "invalid notification"
	msgNotDone    = "notification not processed"
	msgInProgress = "notification already being processed"
)

// Handler answers WeChat Pay's POSTs to a notify_url: it reads at most
// MaxBodySize, verifies and decrypts the notification with Parser, and
// calls Func once per event (see Deduper) with the request's context.
//
// It answers 204 when Func returns nil, and when the event was processed
// successfully already. Otherwise it answers the protocol's
// {"code":"FAIL","message":...} with a generic message, and the status
// WeChat Pay goes by:
//
//   - 405 (with Allow: POST) for any method but POST;
//   - 413 for a body over MaxBodySize (read no further);
//   - 401 "invalid notification" when verification fails (Parse's
//     ErrVerification: a forgery, a probe, a clock too far off, an unknown
//     key id);
//   - 400 "malformed notification" when the body is not a notification or
//     its resource does not decrypt (ErrMalformed, ErrDecrypt);
//   - 409 "notification already being processed" while another delivery
//     of the same event is in Func;
//   - 500 "notification not processed" when Func fails, when Parser is
//     misconfigured (ErrConfig) or when the Deduper fails.
//
// WeChat Pay delivers again, later, whatever did not get a 2xx. The
// answers never say why: the key ids configured, the clock offset and
// Func's error text are for the merchant, so they go to Logger instead.
//
// Build it with Parser.Handler, or as a literal; set its fields before it
// serves its first request, and do not copy it after.
type Handler struct {
	// Parser verifies and decrypts each notification.
	Parser *Parser
	// Func does an event's work. Return an error to have WeChat Pay
	// deliver the event again later (the error text goes to Logger, not
	// to WeChat Pay). It is not called again for an event it processed
	// successfully while Deduper remembers the id, nor twice at once for
	// one event; it should still be idempotent, since a Deduper forgets
	// (after DefaultDedupTTL, or when full) and a success that reached
	// the store but not WeChat Pay is delivered again.
	Func func(ctx context.Context, n *Notification) error
	// Deduper recognises repeat deliveries by the event id. nil means a
	// MemoryDeduper of this Handler's own with the defaults, enough for a
	// single process. Behind a load balancer a repeat may reach another
	// instance: plug in a store the instances share.
	Deduper Deduper
	// Logger receives what the answers leave out: why a notification was
	// refused (with the verification error's detail), Func's and the
	// Deduper's errors (level Error), repeats (Info) and successes
	// (Debug). Records carry the remote address and, once the
	// notification is verified, its id and event type; never the APIv3
	// key. Anyone can POST, so refusals may be many: a handler with a
	// level above Warn drops them. nil means slog.Default() at the time
	// of each record.
	Logger *slog.Logger

	memoryOnce sync.Once
	memory     *MemoryDeduper
}

// Handler returns a Handler that calls fn for each notification, with
// the default Deduper (an in-memory MemoryDeduper of its own) and
// slog.Default() as its logger; set its fields to change them.
func (p *Parser) Handler(fn func(ctx context.Context, n *Notification) error) *Handler {
	return &Handler{Parser: p, Func: fn}
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *Handler) deduper() Deduper {
	if h.Deduper != nil {
		return h.Deduper
	}
	h.memoryOnce.Do(func() { h.memory = &MemoryDeduper{} })
	return h.memory
}

// ServeHTTP handles one delivery, as the type's documentation says.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	attrs := []slog.Attr{slog.String("remote_addr", r.RemoteAddr)}
	refuse := func(level slog.Level, status int, message, logMessage string, err error) {
		a := append(attrs, slog.Int("status", status))
		if err != nil {
			a = append(a, slog.Any("error", err))
		}
		h.logger().LogAttrs(r.Context(), level, "notify: "+logMessage, a...)
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodPost)
		}
		fail(w, status, message)
	}

	if r.Method != http.MethodPost {
		refuse(slog.LevelInfo, http.StatusMethodNotAllowed, msgMethod, "refused a "+r.Method+" request: WeChat Pay POSTs notifications", nil)
		return
	}
	if h.Parser == nil || h.Func == nil {
		refuse(slog.LevelError, http.StatusInternalServerError, msgNotDone, "notify.Handler has no Parser or no Func: build it with Parser.Handler", nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		refuse(slog.LevelWarn, http.StatusRequestEntityTooLarge, msgTooLarge,
			fmt.Sprintf("refused a body larger than notify.MaxBodySize (%d bytes); WeChat Pay notifications are a few KB", MaxBodySize), nil)
		return
	}
	if err != nil {
		refuse(slog.LevelWarn, http.StatusBadRequest, msgMalformed, "reading the body failed", err)
		return
	}
	n, err := h.Parser.Parse(r.Context(), r.Header, body)
	switch {
	case errors.Is(err, ErrVerification):
		refuse(slog.LevelWarn, http.StatusUnauthorized, msgInvalid, "refused a notification that failed verification", err)
		return
	case errors.Is(err, ErrConfig):
		refuse(slog.LevelError, http.StatusInternalServerError, msgNotDone, "the Parser is misconfigured", err)
		return
	case err != nil:
		refuse(slog.LevelWarn, http.StatusBadRequest, msgMalformed, "refused a malformed notification", err)
		return
	}

	attrs = append(attrs, slog.String("id", n.ID), slog.String("event_type", n.EventType))
	d := h.deduper()
	claim, err := d.Claim(r.Context(), n.ID)
	switch {
	case err != nil:
		refuse(slog.LevelError, http.StatusInternalServerError, msgNotDone, "the Deduper could not claim the notification", err)
		return
	case claim == Processed:
		h.logger().LogAttrs(r.Context(), slog.LevelInfo, "notify: acknowledged a repeat of a notification processed already",
			append(attrs, slog.Int("status", http.StatusNoContent), slog.String("claim", claim.String()))...)
		w.WriteHeader(http.StatusNoContent)
		return
	case claim == InProgress:
		refuse(slog.LevelInfo, http.StatusConflict, msgInProgress, "another delivery of the notification is in progress; WeChat Pay will deliver it again", nil)
		return
	case claim != Claimed:
		refuse(slog.LevelError, http.StatusInternalServerError, msgNotDone, "the Deduper answered "+claim.String(), nil)
		return
	}

	if err := h.process(r.Context(), d, n, attrs); err != nil {
		refuse(slog.LevelError, http.StatusInternalServerError, msgNotDone, "processing the notification failed; WeChat Pay will deliver it again", err)
		return
	}
	h.logger().LogAttrs(r.Context(), slog.LevelDebug, "notify: processed a notification", append(attrs, slog.Int("status", http.StatusNoContent))...)
	w.WriteHeader(http.StatusNoContent)
}

// process calls Func for a claimed notification and settles the claim:
// Done on success, Release on failure or panic, so that WeChat Pay's next
// delivery runs Func again. The claim is settled even when the request's
// context has ended (WeChat Pay hung up): it is the state the next
// delivery depends on.
func (h *Handler) process(ctx context.Context, d Deduper, n *Notification, attrs []slog.Attr) (err error) {
	settle := context.WithoutCancel(ctx)
	returned := false
	defer func() {
		if returned {
			return
		}
		// Func panicked: free the id, and let the panic go on.
		if rerr := d.Release(settle, n.ID); rerr != nil {
			h.logger().LogAttrs(settle, slog.LevelError, "notify: the Deduper could not release the notification after a panic",
				append(attrs, slog.Any("error", rerr))...)
		}
	}()
	err = h.Func(ctx, n)
	returned = true
	if err != nil {
		if rerr := d.Release(settle, n.ID); rerr != nil {
			h.logger().LogAttrs(settle, slog.LevelError, "notify: the Deduper could not release the notification; its next delivery may be refused until the claim expires",
				append(attrs, slog.Any("error", rerr))...)
		}
		return err
	}
	if derr := d.Done(settle, n.ID); derr != nil {
		// The work is done: answering 500 would only have it done again.
		h.logger().LogAttrs(settle, slog.LevelError, "notify: the Deduper could not record the notification as processed; a repeat delivery will run Func again",
			append(attrs, slog.Any("error", derr))...)
	}
	return nil
}

func fail(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": "FAIL", "message": message})
}

// Deduper recognises repeat deliveries of a notification by its event id
// (Notification.ID, the same on every delivery): WeChat Pay delivers an
// event up to 15 times over about 24 hours until it gets a 2xx, and
// sometimes after one. Handler calls Claim before Func, then Done after
// Func succeeded or Release after it failed. Implementations must be safe
// for concurrent use.
//
// MemoryDeduper is the in-memory implementation. A fleet shares a store
// instead; with Redis, say:
//
//	Claim:   SET notify:<id> busy NX PX <lease>  → OK: Claimed;
//	         else GET: "done" → Processed, "busy" → InProgress
//	Done:    SET notify:<id> done EX 90000       (25 h)
//	Release: DEL notify:<id>
//
// A shared store should let a claim lapse (the lease above, longer than
// Func takes) so that an instance that dies while processing does not
// leave the event refused with 409 until WeChat Pay gives up.
type Deduper interface {
	// Claim reports what is known of id and, when it returns Claimed,
	// marks it in progress for the caller, which then calls Done or
	// Release. Only verified notifications reach it.
	Claim(ctx context.Context, id string) (ClaimResult, error)
	// Done records id as processed successfully: later Claims return
	// Processed while it is remembered.
	Done(ctx context.Context, id string) error
	// Release gives up a claim whose processing failed: the next Claim of
	// id returns Claimed.
	Release(ctx context.Context, id string) error
}

// ClaimResult is what Deduper.Claim knows of an event id.
type ClaimResult int

// The results of a Claim. The zero value is Claimed, so that a Deduper
// that says nothing has the event processed rather than dropped.
const (
	// Claimed: neither processed nor in progress; the caller now holds it.
	Claimed ClaimResult = iota
	// InProgress: another delivery of the event is being processed;
	// Handler answers 409, which WeChat Pay delivers again later.
	InProgress
	// Processed: processed successfully already; Handler answers 204
	// without calling Func.
	Processed
)

// String returns "claimed", "in progress" or "processed".
func (c ClaimResult) String() string {
	switch c {
	case Claimed:
		return "claimed"
	case InProgress:
		return "in progress"
	case Processed:
		return "processed"
	}
	return fmt.Sprintf("ClaimResult(%d)", int(c))
}

// The defaults of MemoryDeduper.
const (
	// DefaultDedupTTL is how long a processed id is remembered: WeChat
	// Pay's last retry comes about 24 hours after the first delivery.
	DefaultDedupTTL = 25 * time.Hour
	// DefaultDedupEntries is how many processed ids are remembered at
	// most (about 13 MB of memory).
	DefaultDedupEntries = 100_000
)

// MemoryDeduper is a Deduper in this process's memory, bounded in time
// (TTL) and size (MaxEntries; when full, the oldest id is forgotten
// first). Ids in progress are not bounded by these: there are at most as
// many as the requests being served, and a process that dies forgets them
// with it. Its zero value is ready to use; set its fields before first
// use, and do not copy it after. It is safe for concurrent use.
type MemoryDeduper struct {
	// TTL is how long a processed id is remembered; 0 or less means
	// DefaultDedupTTL.
	TTL time.Duration
	// MaxEntries bounds how many processed ids are remembered; 0 or less
	// means DefaultDedupEntries.
	MaxEntries int
	// Now gives the time; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	busy  map[string]struct{}
	done  map[string]time.Time // id → when it was processed
	order []doneEntry          // done's entries, oldest first, from head on
	head  int
}

type doneEntry struct {
	id string
	at time.Time
}

func (m *MemoryDeduper) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *MemoryDeduper) ttl() time.Duration {
	if m.TTL > 0 {
		return m.TTL
	}
	return DefaultDedupTTL
}

func (m *MemoryDeduper) maxEntries() int {
	if m.MaxEntries > 0 {
		return m.MaxEntries
	}
	return DefaultDedupEntries
}

// Claim implements Deduper.
func (m *MemoryDeduper) Claim(_ context.Context, id string) (ClaimResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(m.now())
	if _, ok := m.done[id]; ok {
		return Processed, nil
	}
	if _, ok := m.busy[id]; ok {
		return InProgress, nil
	}
	if m.busy == nil {
		m.busy = map[string]struct{}{}
	}
	m.busy[id] = struct{}{}
	return Claimed, nil
}

// Done implements Deduper.
func (m *MemoryDeduper) Done(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	delete(m.busy, id)
	if m.done == nil {
		m.done = map[string]time.Time{}
	}
	m.done[id] = now
	m.order = append(m.order, doneEntry{id, now})
	m.expire(now)
	for len(m.done) > m.maxEntries() {
		m.pop()
	}
	return nil
}

// Release implements Deduper.
func (m *MemoryDeduper) Release(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.busy, id)
	return nil
}

// Len returns how many processed ids are remembered.
func (m *MemoryDeduper) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(m.now())
	return len(m.done)
}

// expire forgets the ids processed a TTL or more before now. Ids are
// recorded in time order, so the expired ones are at the head.
func (m *MemoryDeduper) expire(now time.Time) {
	ttl := m.ttl()
	for m.head < len(m.order) && now.Sub(m.order[m.head].at) >= ttl {
		m.pop()
	}
}

// pop drops the oldest entry, and its id unless the id was recorded again
// since.
func (m *MemoryDeduper) pop() {
	e := m.order[m.head]
	m.order[m.head] = doneEntry{}
	m.head++
	if at, ok := m.done[e.id]; ok && at.Equal(e.at) {
		delete(m.done, e.id)
	}
	// Reclaim the consumed half of the slice now and then.
	if m.head > 1024 && m.head*2 >= len(m.order) {
		m.order = append([]doneEntry(nil), m.order[m.head:]...)
		m.head = 0
	}
}
