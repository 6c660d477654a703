package wechatpaytest

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Dashboard is the simulation in a browser, server-rendered and usable
// without JavaScript: every action is a form that posts and is answered
// 303 See Other to a page. Serve it at the root of its own server
// (`wechatpay sandbox` serves it beside the fake WeChat Pay, at / and
// /sandbox/...):
//
//	GET  /                                        orders, refunds, contracts, notifications, bills
//	GET  /sandbox/orders/{out_trade_no}           the pay page a payer sees: amount, description, Pay, Decline
//	POST /sandbox/orders/{out_trade_no}           action=pay or action=decline (also .../pay, .../decline)
//	GET  /sandbox/notifications/{id}              its deliveries and their answers
//	POST /sandbox/notifications/{id}              send it again (Redeliver)
//	POST /sandbox/refunds/{out_refund_no}/complete, .../abnormal
//	POST /sandbox/contracts/{out_contract_code}/sign, .../terminate
//	GET  /sandbox/bills/{YYYY-MM-DD}/trade.csv    the day's trade bill (ALL), as TradeBill
//	GET  /sandbox/bills/{YYYY-MM-DD}/fundflow.csv the day's fund flow bill, as FundFlowBill
//
// A refusal (paying a closed order: ORDER_CLOSED) is shown on the page the
// action returns to. Times are in +08:00, as WeChat Pay writes them.
// Cross-origin form posts are refused (http.CrossOriginProtection), so a
// web page elsewhere cannot pay the sandbox's orders.
func (s *Simulator) Dashboard() http.Handler {
	if !s.live() {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, errSimNotRunning.Error(), http.StatusServiceUnavailable)
		})
	}
	return newDashboard(s).handler()
}

// newDashboard is the dashboard of s, its actions those of s.
func newDashboard(s *Simulator) *dashboard {
	return &dashboard{s: s, notices: map[string]notice{},
		pay: s.Pay, decline: s.Decline, complete: s.CompleteRefund, abnormal: s.FailRefund,
		sign: s.SignContract, terminate: s.TerminateContract, resend: s.Redeliver,
		tradeBill: s.TradeBill, fundFlowBill: s.FundFlowBill}
}

// handler routes the dashboard's pages and actions.
func (d *dashboard) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", d.methods(d.overview, nil))
	mux.HandleFunc("/sandbox/orders/{no}", d.methods(d.payPage, d.orderAction))
	mux.HandleFunc("/sandbox/orders/{no}/{action}", d.methods(nil, d.orderAction))
	mux.HandleFunc("/sandbox/notifications/{id}", d.methods(d.notification, d.redeliver))
	mux.HandleFunc("/sandbox/refunds/{no}/{action}", d.methods(nil, d.refundAction))
	mux.HandleFunc("/sandbox/contracts/{code}/{action}", d.methods(nil, d.contractAction))
	mux.HandleFunc("/sandbox/bills/{date}/{file}", d.methods(d.bill, nil))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		d.fail(w, http.StatusNotFound, "Not found", "Nothing here at %s: the dashboard is at /.", r.URL.Path)
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.fail(w, http.StatusForbidden, "Forbidden", "A form from another site cannot act on the sandbox: open the dashboard at / and use its buttons.")
	}))
	return cop.Handler(mux)
}

//go:embed dashboard/*.html
var dashboardFiles embed.FS

// dashboardPages are the dashboard's templates, each page with the layout
// around it, parsed once: they are ours, so a mistake is found by the
// first test.
var dashboardPages = func() map[string]*template.Template {
	funcs := template.FuncMap{
		"time":   showTime,
		"amount": amount,
		"path":   url.PathEscape,
		"badge":  badge,
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"overview", "order", "notification", "error"} {
		pages[name] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(dashboardFiles, "dashboard/layout.html", "dashboard/"+name+".html"))
	}
	return pages
}()

// dashboard serves Simulator.Dashboard. notices are the outcomes of
// actions, shown by the page the action redirects to (?notice=token).
type dashboard struct {
	s *Simulator
	// The simulation's actions: its methods, or a test's stand-ins.
	pay, decline, complete, abnormal, sign, terminate func(string) error
	resend                                            func(id string) (Delivery, error)
	tradeBill                                         func(date, billType string) ([]byte, error)
	fundFlowBill                                      func(date string) ([]byte, error)

	mu      sync.Mutex
	notices map[string]notice
	tokens  []string // oldest first, to forget the oldest
}

// notice is an action's outcome: done, or refused and why.
type notice struct {
	Refused bool
	Text    string
}

// noticeLimit is how many outcomes the dashboard remembers: a page
// reloaded long after its action shows none.
const noticeLimit = 256

// methods answers GET (and HEAD) with get and POST with post, when given,
// and any other method 405 with an Allow header.
func (d *dashboard) methods(get, post http.HandlerFunc) http.HandlerFunc {
	var allow []string
	if get != nil {
		allow = append(allow, http.MethodGet, http.MethodHead)
	}
	if post != nil {
		allow = append(allow, http.MethodPost)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		switch {
		case get != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			get(w, r)
		case post != nil && r.Method == http.MethodPost:
			post(w, r)
		default:
			w.Header().Set("Allow", strings.Join(allow, ", "))
			d.fail(w, http.StatusMethodNotAllowed, "Method not allowed",
				"%s %s: this page answers %s.", r.Method, r.URL.Path, strings.Join(allow, " and "))
		}
	}
}

// render writes page with data, status 200: to a buffer first, so that a
// template error is a 500 rather than half a page.
func (d *dashboard) render(w http.ResponseWriter, status int, page string, data any) {
	var b bytes.Buffer
	if err := dashboardPages[page].Execute(&b, data); err != nil {
		http.Error(w, "wechatpaytest dashboard: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store") // states change; a back button shows them as they are
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// errorPage is the data of error.html.
type errorPage struct {
	Notice         *notice // none
	Title, Message string
	Status         int
}

// fail answers a page saying what went wrong: what was not found, which
// methods a page answers.
func (d *dashboard) fail(w http.ResponseWriter, status int, title, format string, args ...any) {
	d.render(w, status, "error", errorPage{Title: title, Message: fmt.Sprintf(format, args...), Status: status})
}

// remember keeps an action's outcome and returns the token that shows it.
func (d *dashboard) remember(n notice) string {
	token := randomHex(8)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.notices[token] = n
	d.tokens = append(d.tokens, token)
	if len(d.tokens) > noticeLimit {
		delete(d.notices, d.tokens[0])
		d.tokens = d.tokens[1:]
	}
	return token
}

// recall returns the outcome r's ?notice= names, if the dashboard still
// has it.
func (d *dashboard) recall(r *http.Request) *notice {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n, ok := d.notices[r.URL.Query().Get("notice")]; ok {
		return &n
	}
	return nil
}

// act runs an action of the simulation and describes its outcome: the
// refusal, or done and the first attempts of the notifications it sent.
func (d *dashboard) act(done string, action func() error) notice {
	before := len(d.s.Notifications())
	if err := action(); err != nil {
		var se *SimError
		if errors.As(err, &se) {
			return notice{Refused: true, Text: se.Code + ": " + se.Message}
		}
		return notice{Refused: true, Text: err.Error()}
	}
	text := done
	for _, n := range d.s.Notifications()[before:] {
		text += fmt.Sprintf(" %s sent to %s: %s.", n.EventType, n.URL, lastAttempt(n.Deliveries))
	}
	return notice{Text: text}
}

// redirect answers 303 to page, with the outcome to show there.
func (d *dashboard) redirect(w http.ResponseWriter, r *http.Request, page string, n notice, fragment string) {
	http.Redirect(w, r, page+"?notice="+d.remember(n)+fragment, http.StatusSeeOther)
}

// overviewPage is the data of overview.html.
type overviewPage struct {
	Notice        *notice
	MchID         string
	Now           time.Time
	Orders        []Order
	Refunds       []Refund
	Contracts     []Contract
	Notifications []noteRow
	Bills         []string // dates, YYYY-MM-DD
}

// noteRow is a notification as a row of a table.
type noteRow struct {
	Notification
	Last   string // the last attempt's status or error
	Status string // delivered, pending, retrying or failed (the schedule is spent)
}

// row is n as a row of a table.
func row(n Notification) noteRow {
	status := "failed"
	switch {
	case n.Delivered:
		status = "delivered"
	case len(n.Deliveries) == 0:
		status = "pending"
	case !n.Next.IsZero():
		status = "retrying"
	}
	return noteRow{Notification: n, Last: lastAttempt(n.Deliveries), Status: status}
}

func (d *dashboard) overview(w http.ResponseWriter, r *http.Request) {
	p := overviewPage{Notice: d.recall(r), MchID: d.s.MchID, Now: d.s.Now(),
		Orders: d.s.Orders(), Refunds: d.s.Refunds(), Contracts: d.s.Contracts()}
	for _, n := range d.s.Notifications() {
		p.Notifications = append(p.Notifications, row(n))
	}
	days := map[string]bool{}
	for _, o := range p.Orders {
		if !o.Paid.IsZero() {
			days[o.Paid.In(cst).Format(time.DateOnly)] = true
		}
	}
	for _, rf := range p.Refunds {
		if !rf.Finished.IsZero() {
			days[rf.Finished.In(cst).Format(time.DateOnly)] = true
		}
	}
	for day := range days {
		p.Bills = append(p.Bills, day)
	}
	slices.Sort(p.Bills)
	d.render(w, http.StatusOK, "overview", p)
}

// orderPage is the data of order.html.
type orderPage struct {
	Notice        *notice
	MchID         string
	Order         Order
	Payable       bool
	Notifications []noteRow // about this order
}

func (d *dashboard) payPage(w http.ResponseWriter, r *http.Request) {
	o, ok := d.s.Order(r.PathValue("no"))
	if !ok {
		d.notFound(w, "order", "out_trade_no", r.PathValue("no"))
		return
	}
	p := orderPage{Notice: d.recall(r), MchID: d.s.MchID, Order: o, Payable: o.State == "NOTPAY"}
	for _, n := range d.s.Notifications() {
		var about struct {
			OutTradeNo string `json:"out_trade_no"`
		}
		if json.Unmarshal(n.Resource, &about) == nil && about.OutTradeNo == o.OutTradeNo {
			p.Notifications = append(p.Notifications, row(n))
		}
	}
	d.render(w, http.StatusOK, "order", p)
}

// orderAction is the payer's choice on the pay page: the form's action
// field, or the path's last segment.
func (d *dashboard) orderAction(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	action := r.PathValue("action")
	if action == "" {
		action = r.PostFormValue("action")
	}
	var do func(string) error
	var done string
	switch action {
	case "pay":
		do, done = d.pay, "Paid."
	case "decline":
		do, done = d.decline, "Declined."
	default:
		d.fail(w, http.StatusNotFound, "Not found", "%q is not something a payer does: expected pay or decline.", action)
		return
	}
	if _, ok := d.s.Order(no); !ok {
		d.notFound(w, "order", "out_trade_no", no)
		return
	}
	n := d.act(done, func() error { return do(no) })
	d.redirect(w, r, "/sandbox/orders/"+url.PathEscape(no), n, "")
}

func (d *dashboard) refundAction(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	d.objectAction(w, r, "refund", "out_refund_no", no, "#refunds", func() bool { _, ok := d.s.Refund(no); return ok },
		[]action{{"complete", d.complete, "completed"}, {"abnormal", d.abnormal, "made abnormal"}})
}

func (d *dashboard) contractAction(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	d.objectAction(w, r, "contract", "out_contract_code", code, "#contracts", func() bool { _, ok := d.s.Contract(code); return ok },
		[]action{{"sign", d.sign, "signed"}, {"terminate", d.terminate, "terminated"}})
}

// action is something a dashboard button does to a refund or a contract:
// its name in the path, what it does, and the words that report it done.
type action struct {
	name string
	do   func(string) error
	done string
}

// objectAction runs the action r's path names on the object kind whose
// key is id, then returns to the overview at anchor with what happened.
func (d *dashboard) objectAction(w http.ResponseWriter, r *http.Request, kind, key, id, anchor string, exists func() bool, actions []action) {
	i := slices.IndexFunc(actions, func(a action) bool { return a.name == r.PathValue("action") })
	if i < 0 {
		names := make([]string, len(actions))
		for j, a := range actions {
			names[j] = a.name
		}
		d.fail(w, http.StatusNotFound, "Not found", "%q is not something done to a %s: expected %s.", r.PathValue("action"), kind, strings.Join(names, " or "))
		return
	}
	if !exists() {
		d.notFound(w, kind, key, id)
		return
	}
	a := actions[i]
	done := strings.ToUpper(kind[:1]) + kind[1:] + " " + id + " " + a.done + "."
	d.redirect(w, r, "/", d.act(done, func() error { return a.do(id) }), anchor)
}

// notificationPage is the data of notification.html.
type notificationPage struct {
	Notice       *notice
	Notification noteRow
	Resource     string // the plaintext resource, indented
}

func (d *dashboard) notification(w http.ResponseWriter, r *http.Request) {
	n, ok := d.findNotification(r.PathValue("id"))
	if !ok {
		d.notFound(w, "notification", "id", r.PathValue("id"))
		return
	}
	p := notificationPage{Notice: d.recall(r), Notification: row(n), Resource: string(n.Resource)}
	var b bytes.Buffer
	if json.Indent(&b, n.Resource, "", "  ") == nil {
		p.Resource = b.String()
	}
	d.render(w, http.StatusOK, "notification", p)
}

func (d *dashboard) redeliver(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := d.findNotification(id); !ok {
		d.notFound(w, "notification", "id", id)
		return
	}
	var del Delivery
	n := d.act("", func() (err error) {
		del, err = d.resend(id)
		return err
	})
	if !n.Refused {
		n.Text = "Sent again: " + lastAttempt([]Delivery{del}) + "."
	}
	d.redirect(w, r, "/sandbox/notifications/"+url.PathEscape(id), n, "")
}

// findNotification returns the notification with id.
func (d *dashboard) findNotification(id string) (Notification, bool) {
	for _, n := range d.s.Notifications() {
		if n.ID == id {
			return n, true
		}
	}
	return Notification{}, false
}

// bill serves a day's bill as the simulation writes it, CSV.
func (d *dashboard) bill(w http.ResponseWriter, r *http.Request) {
	date, file := r.PathValue("date"), r.PathValue("file")
	var bill func() ([]byte, error)
	switch file {
	case "trade.csv":
		bill = func() ([]byte, error) { return d.tradeBill(date, "ALL") }
	case "fundflow.csv":
		bill = func() ([]byte, error) { return d.fundFlowBill(date) }
	default:
		d.fail(w, http.StatusNotFound, "Not found", "No bill %q: a day's bills are trade.csv and fundflow.csv.", file)
		return
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		d.fail(w, http.StatusNotFound, "Not found", "No bill for %q: a bill's date is YYYY-MM-DD.", date)
		return
	}
	csv, err := bill()
	if err != nil {
		status, text := http.StatusInternalServerError, err.Error()
		var se *SimError
		if errors.As(err, &se) {
			status, text = se.Status, se.Code+": "+se.Message
		}
		d.fail(w, status, "No bill", "The %s bill of %s: %s", strings.TrimSuffix(file, ".csv"), date, text)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", strings.TrimSuffix(file, ".csv")+"-"+date+".csv"))
	_, _ = w.Write(csv)
}

// notFound answers 404 naming the object that is not there.
func (d *dashboard) notFound(w http.ResponseWriter, kind, field, value string) {
	d.fail(w, http.StatusNotFound, "Not found", "The simulation has no %s with %s %q.", kind, field, value)
}

// lastAttempt describes the last of deliveries: its status, the error
// that kept it from being answered, or that there was none yet.
func lastAttempt(deliveries []Delivery) string {
	if len(deliveries) == 0 {
		return "not attempted yet"
	}
	del := deliveries[len(deliveries)-1]
	if del.Status == 0 {
		return del.Err
	}
	return fmt.Sprintf("%d %s", del.Status, http.StatusText(del.Status))
}

// showTime writes t as WeChat Pay does (RFC 3339 in +08:00), or a dash
// for a time that has not come. Its digits, dashes, colons, T and + need
// no escaping, and html/template would write the + as &#43;.
func showTime(t time.Time) template.HTML {
	if t.IsZero() {
		return "—"
	}
	return template.HTML(wxTime(t))
}

// zeroDecimals are the currencies WeChat Pay counts in whole units (its
// amounts are in the currency's smallest unit, fen for CNY).
var zeroDecimals = map[string]bool{"JPY": true, "KRW": true}

// amount writes an amount as a payer reads it: "¥19.99" for 1999 fen,
// "HKD 19.99" in other currencies.
func amount(v int64, currency string) string {
	if currency == "" {
		currency = "CNY"
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	n := fmt.Sprintf("%d.%02d", v/100, v%100)
	if zeroDecimals[currency] {
		n = fmt.Sprint(v)
	}
	if currency == "CNY" {
		return sign + "¥" + n
	}
	return sign + currency + " " + n
}

// badge is the CSS class of a state's badge: done, waiting, failed or
// over.
func badge(state string) string {
	switch state {
	case "SUCCESS", "SIGNED", "delivered":
		return "ok"
	case "NOTPAY", "PROCESSING", "PENDING", "USERPAYING", "pending", "retrying":
		return "wait"
	case "PAYERROR", "ABNORMAL", "failed":
		return "bad"
	default: // CLOSED, REFUND, TERMINATED, REVOKED
		return "over"
	}
}
