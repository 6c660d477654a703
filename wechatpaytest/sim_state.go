package wechatpaytest

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// The simulation's objects. The Simulator's methods return copies: change
// them through the Simulator (Pay, Decline, CompleteRefund, ...) or the API.

// Order is a simulated payment order.
type Order struct {
	// Global is true for a v3/global/transactions order (Hong Kong host).
	Global        bool
	AppID         string
	MchID         string
	Description   string
	OutTradeNo    string
	TransactionID string
	// TradeType is JSAPI, NATIVE, APP, MWEB (h5) or MICROPAY (APIv2).
	TradeType string
	// State is NOTPAY, SUCCESS, CLOSED, REFUND or PAYERROR, as
	// trade_state; StateDesc is its trade_state_desc.
	State     string
	StateDesc string
	Total     int64  // amount.total, in the currency's smallest unit (fen)
	Currency  string // CNY unless given
	Attach    string
	NotifyURL string
	OpenID    string // payer.openid, given or simulated when paid
	// PrepayID, CodeURL and H5URL are what placing it answered.
	PrepayID string
	CodeURL  string
	H5URL    string
	Created  time.Time
	Expires  time.Time // time_expire, or two hours after Created
	Paid     time.Time // success_time; zero unless paid
	Closed   time.Time // zero unless closed or expired
	Refunded int64     // refunded so far (SUCCESS refunds)
	// body is the request that placed it, to tell a repeated order from a
	// different one with the same out_trade_no.
	body json.RawMessage
}

// Refund is a simulated refund.
type Refund struct {
	Global        bool
	RefundID      string
	OutRefundNo   string
	TransactionID string
	OutTradeNo    string
	Reason        string
	NotifyURL     string
	Refund        int64 // amount.refund
	Total         int64 // amount.total of the order
	Currency      string
	// Status is PROCESSING, then SUCCESS or ABNORMAL (CLOSED is not
	// simulated).
	Status   string
	Channel  string // ORIGINAL
	Created  time.Time
	Finished time.Time // success_time; zero while PROCESSING
}

// Contract is a simulated auto-debit (papay) contract.
type Contract struct {
	ContractID      string
	OutContractCode string
	PlanID          int64
	AppID           string
	MchID           string
	OpenID          string
	UserDisplayName string
	NotifyURL       string // success_notify_url
	// Kind is how it was pre-signed: jsapi, app, h5, web or miniprogram.
	Kind string
	// State is PENDING until signed, then SIGNED, then TERMINATED.
	State      string
	Created    time.Time
	Expires    time.Time
	Signed     time.Time
	Terminated time.Time
	// TerminationMode is who ended it: MERCHANT (the terminate API) or
	// USER (TerminateContract, the dashboard); TerminationNote is the
	// termination_note given.
	TerminationMode string
	TerminationNote string
	// body is the pre-sign that opened it, to tell a repeated pre-sign
	// from a different one with the same out_contract_code.
	body json.RawMessage
}

// Notification is one notification the Simulator sends, with every
// attempt to deliver it.
type Notification struct {
	ID        string // the body's id, the same on every attempt
	EventType string // TRANSACTION.SUCCESS, REFUND.SUCCESS, ...
	URL       string
	Summary   string
	Created   time.Time
	// Resource is the plaintext of the encrypted resource.
	Resource json.RawMessage
	// Deliveries are the attempts so far, oldest first.
	Deliveries []Delivery
	// Delivered is true once an attempt was answered 2xx.
	Delivered bool
	// Next is when the next attempt is due on WeChat Pay's schedule; zero
	// when delivered or when the schedule is spent.
	Next     time.Time
	body     []byte        // the JSON body, resource encrypted, unsigned
	first    chan struct{} // closed when the first attempt is done (or none will be)
	released bool          // first is closed
}

// Delivery is one attempt to deliver a Notification.
type Delivery struct {
	At      time.Time // the simulation's time of the attempt
	Attempt int       // 1 for the first
	Manual  bool      // sent again by hand (Redeliver, the dashboard)
	Status  int       // the receiver's status; 0 when it did not answer
	Answer  string    // the body of its answer, cut at 4 KiB
	Err     string    // why there was no answer (connection refused, timeout)
}

// OK reports whether the receiver accepted the delivery (2xx).
func (d Delivery) OK() bool { return d.Status >= 200 && d.Status < 300 }

// Orders returns every order, oldest first.
func (s *Simulator) Orders() []Order {
	if !s.live() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, 0, len(s.orders))
	for _, o := range s.orders {
		s.expire(o)
		out = append(out, *o)
	}
	slices.SortFunc(out, func(a, b Order) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.OutTradeNo, b.OutTradeNo)
	})
	return out
}

// Order returns the order placed with outTradeNo.
func (s *Simulator) Order(outTradeNo string) (Order, bool) {
	if !s.live() {
		return Order{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[outTradeNo]
	if !ok {
		return Order{}, false
	}
	s.expire(o)
	return *o, true
}

// Refunds returns every refund, oldest first.
func (s *Simulator) Refunds() []Refund {
	if !s.live() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Refund, 0, len(s.refunds))
	for _, r := range s.refunds {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Refund) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.OutRefundNo, b.OutRefundNo)
	})
	return out
}

// Refund returns the refund asked for with outRefundNo.
func (s *Simulator) Refund(outRefundNo string) (Refund, bool) {
	if !s.live() {
		return Refund{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.refunds[outRefundNo]
	if !ok {
		return Refund{}, false
	}
	return *r, true
}

// Contracts returns every contract, oldest first.
func (s *Simulator) Contracts() []Contract {
	if !s.live() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// byCode holds every contract, the PENDING ones too (they have no
	// contract_id until signed).
	out := make([]Contract, 0, len(s.byCode))
	for _, c := range s.byCode {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Contract) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ContractID, b.ContractID)
	})
	return out
}

// Contract returns the contract pre-signed with outContractCode.
func (s *Simulator) Contract(outContractCode string) (Contract, bool) {
	if !s.live() {
		return Contract{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byCode[outContractCode]
	if !ok {
		return Contract{}, false
	}
	return *c, true
}

// Notifications returns every notification with its deliveries, oldest
// first.
func (s *Simulator) Notifications() []Notification {
	if !s.live() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Notification, len(s.notes))
	for i, n := range s.notes {
		out[i] = *n
		out[i].Deliveries = slices.Clone(n.Deliveries)
	}
	return out
}
