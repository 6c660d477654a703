package wechatpaytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/wechatpay-chain/wechatpay/aesgcm"
)

// RetrySchedule is how long WeChat Pay waits after each failed delivery of
// a notification before the next attempt: 15 retries over about 24 hours,
// after the first attempt. It is read by every Simulator: a test that
// wants another schedule is better served by Redeliver.
var RetrySchedule = []time.Duration{
	15 * time.Second, 15 * time.Second, 30 * time.Second, 3 * time.Minute,
	10 * time.Minute, 20 * time.Minute, 30 * time.Minute, 30 * time.Minute,
	30 * time.Minute, 60 * time.Minute, 3 * time.Hour, 3 * time.Hour,
	3 * time.Hour, 6 * time.Hour, 6 * time.Hour,
}

// notifyTimeout is how long WeChat Pay waits for a receiver's answer.
const notifyTimeout = 5 * time.Second

// answerLimit is how much of a receiver's answer a Delivery keeps.
const answerLimit = 4 << 10

// notify makes a notification of eventType about resource (its plaintext
// JSON) for url and starts its first attempt now (launch); the caller
// holds s.mu.
// originalType is the resource's original_type and associated data
// (transaction, refund, contract...). A notification without a URL is not
// made: WeChat Pay sends none where no notify_url was given.
func (s *Simulator) notify(url, eventType, originalType, summary string, resource any) *Notification {
	if url == "" {
		return nil
	}
	plain, err := json.Marshal(resource)
	if err != nil {
		panic(fmt.Sprintf("wechatpaytest: a simulated resource is not JSON: %v", err)) // our own values only
	}
	now := s.now()
	n := &Notification{
		ID: s.nextID("EV-", 21), EventType: eventType, URL: url, Summary: summary,
		Created: now, Resource: plain,
	}
	n.body, err = encryptedBody(s.APIv3Key, n.ID, wxTime(now), eventType, originalType, summary, plain)
	if err != nil {
		panic(fmt.Sprintf("wechatpaytest: encrypting a notification: %v", err)) // a 32-byte key cannot fail
	}
	n.first = make(chan struct{})
	s.notes = append(s.notes, n)
	n.Next = now
	s.launch(n)
	return n
}

// launch starts an attempt to deliver n on its own goroutine, as WeChat
// Pay delivers each notification independently of the others; the caller
// holds s.mu.
func (s *Simulator) launch(n *Notification) {
	if s.closed {
		s.firstDone(n) // nothing will be attempted: nobody waits for it
		return
	}
	s.inflight++
	go func() {
		defer s.done()
		s.attempt(n, false)
	}()
}

// done ends an attempt counted in s.inflight.
func (s *Simulator) done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight--
	if s.inflight == 0 {
		s.idle.Broadcast()
	}
}

// firstDone releases whoever waits for n's first attempt (awaitFirst),
// once; the caller holds s.mu.
func (s *Simulator) firstDone(n *Notification) {
	if !n.released {
		n.released = true
		close(n.first)
	}
}

// act runs fn under s.mu as one action of the simulated payer, user or
// bank (Pay, SignContract, CompleteRefund, ...), then waits until the first
// attempt to deliver each notification fn made is done: a test sees the
// notification delivered when the action returns. fn's error is act's.
func (s *Simulator) act(fn func() error) error {
	if s == nil || s.orders == nil || !s.Server.running() {
		return errSimNotRunning
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errSimNotRunning
	}
	mark := len(s.notes)
	err := fn()
	made := slices.Clone(s.notes[mark:])
	s.mu.Unlock()
	for _, n := range made {
		<-n.first
	}
	return err
}

// encryptedBody is a notification's JSON body as WeChat Pay sends it: the
// resource encrypted with the APIv3 key, its original type as associated
// data.
func encryptedBody(apiv3Key, id, created, eventType, originalType, summary string, plain []byte) ([]byte, error) {
	nonce := randomHex(6)
	ct, err := aesgcm.Encrypt(apiv3Key, nonce, originalType, plain)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": id, "create_time": created,
		"resource_type": "encrypt-resource", "event_type": eventType, "summary": summary,
		"resource": map[string]string{"original_type": originalType, "algorithm": aesgcm.Algorithm,
			"ciphertext": ct, "associated_data": originalType, "nonce": nonce},
	})
}

// attempt delivers n once, records the delivery and, for a scheduled
// attempt that failed, schedules the next on RetrySchedule. It runs
// without s.mu: the receiver may call the simulation back.
func (s *Simulator) attempt(n *Notification, manual bool) Delivery {
	s.mu.Lock()
	if !manual && n.Delivered {
		s.mu.Unlock()
		return Delivery{}
	}
	body := n.body
	s.mu.Unlock()

	d := s.post(n.URL, body)
	d.Manual = manual

	s.mu.Lock()
	defer s.mu.Unlock()
	d.At = s.now()
	d.Attempt = len(n.Deliveries) + 1
	n.Deliveries = append(n.Deliveries, d)
	s.firstDone(n)
	if d.OK() {
		n.Delivered, n.Next = true, time.Time{}
		return d
	}
	if manual || n.Delivered {
		// Sent again by hand, or answered 2xx to one sent again meanwhile:
		// the schedule is not this attempt's to change.
		return d
	}
	scheduled := 0
	for _, past := range n.Deliveries {
		if !past.Manual {
			scheduled++
		}
	}
	if scheduled > len(RetrySchedule) || s.closed {
		n.Next = time.Time{}
		return d
	}
	n.Next = d.At.Add(RetrySchedule[scheduled-1])
	s.schedule(n.Next, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.launch(n)
	})
	return d
}

// post sends a notification body to url, signed now (with the machine's
// time, which the receiver checks), and returns what came back.
func (s *Simulator) post(url string, body []byte) Delivery {
	h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Mozilla/4.0"}}
	key, serial := s.signingKey("")
	body = s.sign(h, body, body, key, serial, NoFault)
	ctx, cancel := context.WithTimeout(s.ctx, notifyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Delivery{Err: "the notify_url is not a URL: " + err.Error()}
	}
	req.Header = h
	resp, err := s.client.Do(req)
	if err != nil {
		return Delivery{Err: err.Error()}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, answerLimit))
	return Delivery{Status: resp.StatusCode, Answer: string(answer)}
}

// Redeliver sends the notification with id again now, as the dashboard's
// "send again" does, whether or not it was delivered, and returns the
// delivery. WeChat Pay's own schedule goes on as it was.
func (s *Simulator) Redeliver(id string) (Delivery, error) {
	if !s.live() {
		return Delivery{}, errSimNotRunning
	}
	s.mu.Lock()
	var n *Notification
	for _, x := range s.notes {
		if x.ID == id {
			n = x
		}
	}
	s.mu.Unlock()
	if n == nil {
		return Delivery{}, refuse(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "no notification %q", id)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Delivery{}, errSimNotRunning
	}
	s.inflight++ // Advance and Close wait for it too
	s.mu.Unlock()
	defer s.done()
	return s.attempt(n, true), nil
}
