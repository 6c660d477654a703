package wechatpaytest

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dashTest is a simulation with a virtual clock, its dashboard served on
// loopback, and a client that does not follow redirects.
type dashTest struct {
	sim    *Simulator
	d      *dashboard
	url    string
	client *http.Client
}

// newDashTest serves the dashboard of a new simulation; the test may
// replace the dashboard's actions before the first request.
func newDashTest(t *testing.T) *dashTest {
	t.Helper()
	sim := NewSimulator(WithVirtualClock(internalStart))
	t.Cleanup(sim.Close)
	dt := &dashTest{sim: sim, d: newDashboard(sim)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dt.d.handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	dt.url = srv.URL
	dt.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return dt
}

// do sends method path with form fields and returns status, Location,
// Content-Type and body.
func (dt *dashTest) do(t *testing.T, method, path string, form url.Values, header ...string) (int, string, string, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, dt.url+path, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := dt.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Content-Type"), string(b)
}

// get fetches a page, which must answer 200 in HTML.
func (dt *dashTest) get(t *testing.T, path string) string {
	t.Helper()
	status, _, ctype, body := dt.do(t, http.MethodGet, path, nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "text/html; charset=utf-8", ctype)
	return body
}

// post posts a form, which must answer 303 to a page under wantPage, and
// returns that page.
func (dt *dashTest) post(t *testing.T, path string, form url.Values, wantPage string) string {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	status, location, _, body := dt.do(t, http.MethodPost, path, form)
	require.Equal(t, http.StatusSeeOther, status, body)
	require.True(t, strings.HasPrefix(location, wantPage+"?notice="), "redirected to %q, want %s?notice=...", location, wantPage)
	return dt.get(t, location)
}

// addOrder puts an order in the simulation as placing it would.
func (dt *dashTest) addOrder(o Order) {
	dt.sim.mu.Lock()
	defer dt.sim.mu.Unlock()
	if o.Created.IsZero() {
		o.Created = dt.sim.now()
	}
	if o.Expires.IsZero() {
		o.Expires = o.Created.Add(2 * time.Hour)
	}
	dt.sim.orders[o.OutTradeNo] = &o
	if o.TransactionID != "" {
		dt.sim.txByID[o.TransactionID] = &o
	}
}

// receiverAnswering is a notify_url answering status with body.
func receiverAnswering(t *testing.T, status int, body string) (string, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/notify", &calls
}

// TestDashboardOverview: the overview lists orders, refunds, contracts,
// notifications and bill days, with the actions each state allows, times
// in +08:00, amounts in yuan, and every value escaped.
func TestDashboardOverview(t *testing.T) {
	t.Parallel()
	dt := newDashTest(t)
	notifyURL, _ := receiverAnswering(t, http.StatusInternalServerError, `<b>receiver-html-answer</b>`)
	paid := internalStart.Add(5 * time.Minute)
	dt.addOrder(Order{OutTradeNo: "T-paid", Description: `Tea <script>alert("dash-xss-sentinel")</script>`, Total: 1999, Currency: "CNY",
		TradeType: "NATIVE", State: "SUCCESS", TransactionID: "4200000001202603140000000001", Paid: paid})
	dt.addOrder(Order{OutTradeNo: "T-hk", Description: "Dim sum", Total: 5000, Currency: "HKD", TradeType: "JSAPI", State: "NOTPAY", Global: true})
	dt.addOrder(Order{OutTradeNo: "T/slash", Description: "odd number", Total: 1, TradeType: "APP", State: "CLOSED"})
	dt.sim.mu.Lock()
	dt.sim.refunds["R-processing"] = &Refund{OutRefundNo: "R-processing", OutTradeNo: "T-paid", Refund: 500, Total: 1999, Currency: "CNY", Status: "PROCESSING", Created: paid}
	dt.sim.refunds["R-done"] = &Refund{OutRefundNo: "R-done", OutTradeNo: "T-paid", Refund: 100, Total: 1999, Currency: "CNY", Status: "SUCCESS",
		Created: paid, Finished: internalStart.Add(26 * time.Hour)}
	for _, c := range []Contract{
		{ContractID: "C1", OutContractCode: "K-pending", PlanID: 12535, State: "PENDING", Kind: "jsapi", Created: internalStart},
		{ContractID: "C2", OutContractCode: "K-signed", PlanID: 12535, State: "SIGNED", Kind: "app", Created: internalStart.Add(time.Second)},
		{ContractID: "C3", OutContractCode: "K-ended", PlanID: 12535, State: "TERMINATED", Kind: "h5", Created: internalStart.Add(2 * time.Second)},
	} {
		dt.sim.contract[c.ContractID] = &c
		dt.sim.byCode[c.OutContractCode] = &c
	}
	n := dt.sim.notify(notifyURL, "TRANSACTION.SUCCESS", "transaction", "支付成功", map[string]string{"out_trade_no": "T-paid"})
	dt.sim.mu.Unlock()
	dt.sim.waitIdle()

	page := dt.get(t, "/")
	for _, want := range []string{
		`simulation time <code>2026-03-14T10:00:00+08:00</code>`,
		// Orders: a link to the pay page, amounts, states.
		`<a href="/sandbox/orders/T-paid">T-paid</a>`,
		`Tea &lt;script&gt;alert(&#34;dash-xss-sentinel&#34;)&lt;/script&gt;`,
		`<td class="num">¥19.99</td>`,
		`<td class="num">HKD 50.00</td>`,
		`<td class="num">¥0.01</td>`,
		`<td>JSAPI (global)</td>`,
		`<span class="badge ok">SUCCESS</span>`,
		`<span class="badge wait">NOTPAY</span>`,
		`<span class="badge over">CLOSED</span>`,
		`<a href="/sandbox/orders/T%2Fslash">T/slash</a>`,
		`<td>2026-03-14T10:00:00+08:00</td>`,
		// Refunds: actions while PROCESSING only.
		`<form method="post" action="/sandbox/refunds/R-processing/complete"><button type="submit">Complete</button></form>`,
		`<form method="post" action="/sandbox/refunds/R-processing/abnormal"><button type="submit">Abnormal</button></form>`,
		`<span class="badge wait">PROCESSING</span>`,
		`<td>2026-03-15T12:00:00+08:00</td>`,
		// Contracts: Sign while PENDING, Terminate while SIGNED.
		`<form method="post" action="/sandbox/contracts/K-pending/sign"><button type="submit">Sign</button></form>`,
		`<form method="post" action="/sandbox/contracts/K-signed/terminate"><button type="submit">Terminate</button></form>`,
		`<span class="badge over">TERMINATED</span>`,
		// Notifications: deliveries so far and the last answer.
		`<a href="/sandbox/notifications/` + n.ID + `">` + n.ID + `</a>`,
		`<code>` + notifyURL + `</code>`,
		`<td class="num">1</td>`,
		`<td>500 Internal Server Error</td>`,
		`<span class="badge wait">retrying</span>`,
		// Bills: the days with a payment or a settled refund.
		`<tr><td>2026-03-14</td><td><a href="/sandbox/bills/2026-03-14/trade.csv">trade.csv</a></td><td><a href="/sandbox/bills/2026-03-14/fundflow.csv">fundflow.csv</a></td></tr>`,
		`<a href="/sandbox/bills/2026-03-15/trade.csv">`,
	} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, `<script>alert("dash-xss-sentinel")`)
	assert.NotContains(t, page, "R-done/complete", "no action on a settled refund")
	assert.NotContains(t, page, "K-ended/", "no action on a terminated contract")
	assert.NotContains(t, page, "K-pending/terminate")
	assert.NotContains(t, page, "K-signed/sign")
	assert.Equal(t, 2, strings.Count(page, "/trade.csv"), "a row per day with a bill")
}

// TestDashboardOverviewEmpty: a new simulation's overview says that there
// is nothing yet, in each section.
func TestDashboardOverviewEmpty(t *testing.T) {
	t.Parallel()
	page := newDashTest(t).get(t, "/")
	for _, want := range []string{"No orders yet", "No refunds yet.", "No contracts yet.", "No notifications yet", "No bills yet"} {
		assert.Contains(t, page, want)
	}
}

// TestDashboardPayPage: the pay page shows the merchant, the description,
// the amount in yuan and the state, with Pay and Decline while the order
// is payable; the form calls the payer's action and answers 303 back to
// the page, which shows the outcome and the notification it sent.
func TestDashboardPayPage(t *testing.T) {
	t.Parallel()
	dt := newDashTest(t)
	notifyURL, calls := receiverAnswering(t, http.StatusNoContent, "")
	dt.addOrder(Order{OutTradeNo: "T1", Description: "Tea & cake", Total: 1999, Currency: "CNY", TradeType: "NATIVE",
		State: "NOTPAY", NotifyURL: notifyURL, AppID: "wxd678efh567hg6787"})
	dt.addOrder(Order{OutTradeNo: "T2", Description: "Declined tea", Total: 1, TradeType: "NATIVE", State: "NOTPAY"})
	var mu sync.Mutex
	var got []string
	dt.d.pay = func(no string) error { // as the simulation pays: state, notification, first attempt
		mu.Lock()
		got = append(got, "pay "+no)
		mu.Unlock()
		dt.sim.mu.Lock()
		o := dt.sim.orders[no]
		o.State, o.Paid, o.TransactionID = "SUCCESS", dt.sim.now(), "4200000001202603140000000042"
		dt.sim.notify(o.NotifyURL, "TRANSACTION.SUCCESS", "transaction", "支付成功", map[string]string{"out_trade_no": no})
		dt.sim.mu.Unlock()
		dt.sim.waitIdle()
		return nil
	}
	dt.d.decline = func(no string) error {
		mu.Lock()
		got = append(got, "decline "+no)
		mu.Unlock()
		dt.sim.mu.Lock()
		dt.sim.orders[no].State = "PAYERROR"
		dt.sim.mu.Unlock()
		return nil
	}

	page := dt.get(t, "/sandbox/orders/T1")
	for _, want := range []string{
		`Merchant 商户 <code>` + dt.sim.MchID + `</code>`,
		`<div id="description">Tea &amp; cake</div>`,
		`<div class="price" id="amount">¥19.99</div>`,
		`<span id="state">NOTPAY</span>`,
		`<form method="post" action="/sandbox/orders/T1" class="actions">`,
		`<button id="pay" name="action" value="pay">Pay</button>`,
		`<button id="decline" name="action" value="decline">Decline</button>`,
		`<dt>Expires</dt><dd>2026-03-14T12:00:00+08:00</dd>`,
		`<code>` + notifyURL + `</code>`,
	} {
		assert.Contains(t, page, want)
	}

	page = dt.post(t, "/sandbox/orders/T1", url.Values{"action": {"pay"}}, "/sandbox/orders/T1")
	assert.Contains(t, page, `<span id="state">SUCCESS</span>`)
	assert.Contains(t, page, `<p class="notice ok" id="notice">Paid. TRANSACTION.SUCCESS sent to `+notifyURL+`: 204 No Content.</p>`)
	assert.Contains(t, page, `<dt>transaction_id</dt><dd><code>4200000001202603140000000042</code></dd>`)
	assert.Contains(t, page, `<dt>Paid</dt><dd>2026-03-14T10:00:00+08:00</dd>`)
	assert.NotContains(t, page, `id="pay"`, "no buttons once paid")
	assert.NotContains(t, page, `id="decline"`)
	assert.Contains(t, page, "<h2>Notifications about this order</h2>")
	assert.EqualValues(t, 1, calls.Load())

	// The sub-path form, and the notice is not shown again without its token.
	page = dt.post(t, "/sandbox/orders/T2/decline", nil, "/sandbox/orders/T2")
	assert.Contains(t, page, `<span id="state">PAYERROR</span>`)
	assert.Contains(t, page, `<p class="notice ok" id="notice">Declined.</p>`)
	assert.NotContains(t, dt.get(t, "/sandbox/orders/T2"), `id="notice"`)
	assert.Equal(t, []string{"pay T1", "decline T2"}, got)
}

// TestDashboardShowsRefusals: a payer's action the simulation refuses is
// shown on the page the form returns to, escaped, and changes nothing.
func TestDashboardShowsRefusals(t *testing.T) {
	t.Parallel()
	dt := newDashTest(t)
	dt.addOrder(Order{OutTradeNo: "T1", Description: "Closed tea", Total: 1999, TradeType: "NATIVE", State: "CLOSED"})
	dt.d.pay = func(no string) error {
		return refuse(http.StatusBadRequest, "ORDER_CLOSED", "the order %s is closed <not-html-sentinel>", no)
	}
	page := dt.get(t, "/sandbox/orders/T1")
	assert.Contains(t, page, `<span id="state">CLOSED</span>`)
	assert.NotContains(t, page, `id="pay"`, "no buttons on a closed order")

	page = dt.post(t, "/sandbox/orders/T1", url.Values{"action": {"pay"}}, "/sandbox/orders/T1")
	assert.Contains(t, page, `<p class="notice bad" id="notice">Refused: ORDER_CLOSED: the order T1 is closed &lt;not-html-sentinel&gt;</p>`)
	assert.Contains(t, page, `<span id="state">CLOSED</span>`)
}

// TestDashboardCallsTheSimulation: the dashboard's forms call the
// Simulator's own methods, and show what they answer: the same refusal a
// direct call gets for an order that cannot be paid.
func TestDashboardCallsTheSimulation(t *testing.T) {
	t.Parallel()
	sim := NewSimulator(WithVirtualClock(internalStart))
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim.Dashboard())
	t.Cleanup(srv.Close)
	dt := &dashTest{sim: sim, url: srv.URL, client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	closed := Order{OutTradeNo: "T-closed", Description: "Closed", Total: 1, TradeType: "NATIVE", State: "CLOSED", Closed: internalStart}
	dt.addOrder(closed)
	closed.OutTradeNo = "T-closed-too"
	dt.addOrder(closed)

	err := sim.Pay("T-closed-too")
	var se *SimError
	require.ErrorAs(t, err, &se)
	page := dt.post(t, "/sandbox/orders/T-closed", url.Values{"action": {"pay"}}, "/sandbox/orders/T-closed")
	want := strings.ReplaceAll(se.Code+": "+se.Message, "T-closed-too", "T-closed")
	// html/template writes "+" as "&#43;": compare the text a browser shows.
	assert.Contains(t, html.UnescapeString(page), `<p class="notice bad" id="notice">Refused: `+want+`</p>`)
	assert.Contains(t, page, `<span id="state">CLOSED</span>`)
}

// TestDashboardRefundAndContractActions: Complete, Abnormal, Sign and
// Terminate call the simulation's action for the object named and answer
// 303 to the overview, which shows the outcome.
func TestDashboardRefundAndContractActions(t *testing.T) {
	t.Parallel()
	dt := newDashTest(t)
	dt.sim.mu.Lock()
	dt.sim.refunds["R1"] = &Refund{OutRefundNo: "R1", OutTradeNo: "T1", Refund: 1, Total: 1, Status: "PROCESSING", Created: internalStart}
	c := &Contract{ContractID: "C1", OutContractCode: "K1", State: "PENDING", Created: internalStart}
	dt.sim.contract["C1"], dt.sim.byCode["K1"] = c, c
	dt.sim.mu.Unlock()
	var got []string
	record := func(what string, err error) func(string) error {
		return func(no string) error { got = append(got, what+" "+no); return err }
	}
	dt.d.complete = record("complete", nil)
	dt.d.abnormal = record("abnormal", refuse(http.StatusBadRequest, "INVALID_REQUEST", "the refund is not PROCESSING"))
	dt.d.sign = record("sign", nil)
	dt.d.terminate = record("terminate", refuse(http.StatusBadRequest, "INVALID_REQUEST", "the contract is not SIGNED"))

	tests := []struct {
		path, notice string
	}{
		{"/sandbox/refunds/R1/complete", `<p class="notice ok" id="notice">Refund R1 completed.</p>`},
		{"/sandbox/refunds/R1/abnormal", `<p class="notice bad" id="notice">Refused: INVALID_REQUEST: the refund is not PROCESSING</p>`},
		{"/sandbox/contracts/K1/sign", `<p class="notice ok" id="notice">Contract K1 signed.</p>`},
		{"/sandbox/contracts/K1/terminate", `<p class="notice bad" id="notice">Refused: INVALID_REQUEST: the contract is not SIGNED</p>`},
	}
	for _, tt := range tests {
		page := dt.post(t, tt.path, nil, "/")
		assert.Contains(t, page, tt.notice, tt.path)
	}
	assert.Equal(t, []string{"complete R1", "abnormal R1", "sign K1", "terminate K1"}, got)
}

// TestDashboardNotification: a notification's page lists its deliveries
// with their answers escaped; Send again delivers it once more, now, and
// the page then shows that attempt.
func TestDashboardNotification(t *testing.T) {
	t.Parallel()
	dt := newDashTest(t)
	notifyURL, calls := receiverAnswering(t, http.StatusInternalServerError, `{"code":"FAIL","message":"<i>receiver-answer-sentinel</i>"}`)
	dt.sim.mu.Lock()
	n := dt.sim.notify(notifyURL, "REFUND.SUCCESS", "refund", "退款成功", map[string]any{"out_refund_no": "R1", "amount": map[string]int{"refund": 1}})
	dt.sim.mu.Unlock()
	dt.sim.waitIdle()

	page := dt.get(t, "/sandbox/notifications/"+n.ID)
	for _, want := range []string{
		`<h1>REFUND.SUCCESS <span class="badge wait">retrying</span></h1>`,
		`to <code>` + notifyURL + `</code> · next attempt at 2026-03-14T10:00:15+08:00`,
		`<form method="post" action="/sandbox/notifications/` + n.ID + `"><button type="submit" id="send-again" class="primary">Send again</button></form>`,
		`<td class="num">1</td>`,
		`<span class="badge bad">500</span>`,
		`<pre>{&#34;code&#34;:&#34;FAIL&#34;,&#34;message&#34;:&#34;&lt;i&gt;receiver-answer-sentinel&lt;/i&gt;&#34;}</pre>`,
		"<pre>{\n  &#34;amount&#34;: {\n    &#34;refund&#34;: 1\n  },\n  &#34;out_refund_no&#34;: &#34;R1&#34;\n}</pre>",
	} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, "<i>receiver-answer-sentinel")

	page = dt.post(t, "/sandbox/notifications/"+n.ID, nil, "/sandbox/notifications/"+n.ID)
	assert.Contains(t, page, `<p class="notice ok" id="notice">Sent again: 500 Internal Server Error.</p>`)
	assert.Contains(t, page, `<td class="num">2 (sent again)</td>`)
	assert.EqualValues(t, 2, calls.Load())
	assert.Len(t, dt.sim.Notifications()[0].Deliveries, 2)
}

// TestDashboardBills: a day's bills are served as the simulation writes
// them, CSV; a refusal is a page with its status.
func TestDashboardBills(t *testing.T) {
	t.Parallel()
	dt := newDashTest(t)
	var asked []string
	dt.d.tradeBill = func(date, billType string) ([]byte, error) {
		asked = append(asked, "trade "+date+" "+billType)
		return []byte("交易时间,公众账号ID\n`2026-03-14 10:05:00,`wxd678efh567hg6787\n"), nil
	}
	dt.d.fundFlowBill = func(date string) ([]byte, error) {
		asked = append(asked, "fundflow "+date)
		return nil, refuse(http.StatusBadRequest, "NO_STATEMENT_EXIST", "no bill for %s", date)
	}
	status, _, ctype, body := dt.do(t, http.MethodGet, "/sandbox/bills/2026-03-14/trade.csv", nil)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "text/csv; charset=utf-8", ctype)
	assert.Equal(t, "交易时间,公众账号ID\n`2026-03-14 10:05:00,`wxd678efh567hg6787\n", body)

	status, _, ctype, body = dt.do(t, http.MethodGet, "/sandbox/bills/2026-03-13/fundflow.csv", nil)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "text/html; charset=utf-8", ctype)
	assert.Contains(t, body, `<p id="message">The fundflow bill of 2026-03-13: NO_STATEMENT_EXIST: no bill for 2026-03-13</p>`)
	assert.Equal(t, []string{"trade 2026-03-14 ALL", "fundflow 2026-03-13"}, asked)
}

// TestDashboardNotFound: what the simulation does not have is a 404 page
// saying what was not found, and nothing is called.
func TestDashboardNotFound(t *testing.T) {
	t.Parallel()
	dt := newDashTest(t)
	dt.addOrder(Order{OutTradeNo: "T1", Total: 1, State: "NOTPAY"})
	fail := func(string) error { t.Error("an action was called"); return nil }
	dt.d.pay, dt.d.decline, dt.d.complete, dt.d.abnormal, dt.d.sign, dt.d.terminate = fail, fail, fail, fail, fail, fail
	tests := []struct {
		method, path string
		message      string
	}{
		{"GET", "/sandbox/orders/NO-SUCH-ORDER", `The simulation has no order with out_trade_no &#34;NO-SUCH-ORDER&#34;.`},
		{"POST", "/sandbox/orders/NO-SUCH-ORDER", `The simulation has no order with out_trade_no &#34;NO-SUCH-ORDER&#34;.`},
		{"POST", "/sandbox/orders/%3Cb%3E", `The simulation has no order with out_trade_no &#34;&lt;b&gt;&#34;.`},
		{"POST", "/sandbox/orders/T1/fly", `&#34;fly&#34; is not something a payer does: expected pay or decline.`},
		{"POST", "/sandbox/refunds/NO-SUCH-REFUND/complete", `The simulation has no refund with out_refund_no &#34;NO-SUCH-REFUND&#34;.`},
		{"POST", "/sandbox/refunds/R1/undo", `&#34;undo&#34; is not something done to a refund: expected complete or abnormal.`},
		{"POST", "/sandbox/contracts/NO-SUCH-CODE/sign", `The simulation has no contract with out_contract_code &#34;NO-SUCH-CODE&#34;.`},
		{"POST", "/sandbox/contracts/K1/renew", `&#34;renew&#34; is not something done to a contract: expected sign or terminate.`},
		{"GET", "/sandbox/notifications/EV-NO-SUCH-NOTE", `The simulation has no notification with id &#34;EV-NO-SUCH-NOTE&#34;.`},
		{"POST", "/sandbox/notifications/EV-NO-SUCH-NOTE", `The simulation has no notification with id &#34;EV-NO-SUCH-NOTE&#34;.`},
		{"GET", "/sandbox/bills/2026-3-14/trade.csv", `No bill for &#34;2026-3-14&#34;: a bill&#39;s date is YYYY-MM-DD.`},
		{"GET", "/sandbox/bills/2026-03-14/refund.csv", `No bill &#34;refund.csv&#34;: a day&#39;s bills are trade.csv and fundflow.csv.`},
		{"GET", "/favicon.ico", `Nothing here at /favicon.ico: the dashboard is at /.`},
	}
	for _, tt := range tests {
		var form url.Values
		if tt.method == "POST" {
			form = url.Values{"action": {"pay"}}
		}
		status, _, ctype, body := dt.do(t, tt.method, tt.path, form)
		assert.Equal(t, http.StatusNotFound, status, "%s %s", tt.method, tt.path)
		assert.Equal(t, "text/html; charset=utf-8", ctype)
		assert.Contains(t, body, "<h1>404 Not found</h1>")
		assert.Contains(t, body, `<p id="message">`+tt.message+`</p>`, "%s %s", tt.method, tt.path)
	}
}

// TestDashboardMethods: a page answers only its methods, others 405 with
// Allow; a form posted from another site is refused and calls nothing.
func TestDashboardMethods(t *testing.T) {
	t.Parallel()
	dt := newDashTest(t)
	dt.addOrder(Order{OutTradeNo: "T1", Total: 1, State: "NOTPAY"})
	dt.d.pay = func(string) error { t.Error("a cross-site form paid"); return nil }
	tests := []struct {
		method, path, allow string
	}{
		{"PUT", "/", "GET, HEAD"},
		{"POST", "/", "GET, HEAD"},
		{"DELETE", "/sandbox/orders/T1", "GET, HEAD, POST"},
		{"GET", "/sandbox/orders/T1/pay", "POST"},
		{"GET", "/sandbox/refunds/R1/complete", "POST"},
		{"PATCH", "/sandbox/contracts/K1/sign", "POST"},
		{"POST", "/sandbox/bills/2026-03-14/trade.csv", "GET, HEAD"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, dt.url+tt.path, nil)
		require.NoError(t, err)
		resp, err := dt.client.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "%s %s", tt.method, tt.path)
		assert.Equal(t, tt.allow, resp.Header.Get("Allow"), "%s %s", tt.method, tt.path)
		assert.Contains(t, string(body), "<h1>405 Method not allowed</h1>")
	}

	status, _, _, page := dt.do(t, http.MethodPost, "/sandbox/orders/T1", url.Values{"action": {"pay"}}, "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, page, "A form from another site cannot act on the sandbox", "the refusal is the dashboard's page")
	status, _, _, _ = dt.do(t, http.MethodPost, "/sandbox/orders/T1", url.Values{"action": {"pay"}}, "Origin", "https://elsewhere.example")
	assert.Equal(t, http.StatusForbidden, status)
}

// TestDashboardAmounts: amounts in the currency's smallest unit are shown
// as a payer reads them.
func TestDashboardAmounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v        int64
		currency string
		want     string
	}{
		{1999, "CNY", "¥19.99"},
		{1999, "", "¥19.99"},
		{1, "CNY", "¥0.01"},
		{100, "CNY", "¥1.00"},
		{0, "CNY", "¥0.00"},
		{-250, "CNY", "-¥2.50"},
		{5000, "HKD", "HKD 50.00"},
		{1200, "JPY", "JPY 1200"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, amount(tt.v, tt.currency), "%d %s", tt.v, tt.currency)
	}
}
