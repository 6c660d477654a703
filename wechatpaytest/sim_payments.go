package wechatpaytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The simulated payments. Orders placed through
//
//	POST v3/pay/transactions/{jsapi,native,app,h5}
//	POST v3/global/transactions/{jsapi,native,app,mweb}  (Hong Kong host)
//
// are checked as WeChat Pay checks them and kept; they are queried by
// transaction id and by out_trade_no, closed (204; a paid order 400
// ORDERPAID; closing a closed order again 204, as WeChat Pay takes a
// repeated close for a success), and expire at time_expire (two hours
// after they were placed unless given). The same order placed again
// answers what it answered first; the same out_trade_no with other
// content (or on another endpoint) is 400 INVALID_REQUEST, and once paid
// or closed 400 ORDERPAID or ORDER_CLOSED. A domestic order is
// seen only through the v3/pay/ paths and a global one only through the
// v3/global/ paths, as they belong to different merchant accounts in
// WeChat Pay; out_trade_no is one namespace for both, as Pay takes only it.
//
// A missing or malformed field is answered 400 PARAM_ERROR with WeChat
// Pay's detail {"field", "location", "issue"}: field is a JSON pointer
// into the body ("/amount/total") or the name of a query parameter. The
// limits are WeChat Pay's: description at most 127 characters, notify_url
// at most 256 and without parameters (no query, no fragment), amounts
// WeChat's int (1 to 2147483647 fen, orders and refunds alike), and a
// domestic order's currency CNY.
//
// "The same content" ignores key order and spacing, takes a field that is
// omitted, null or "" as one and the same, and a domestic order's omitted
// currency as CNY, its default.

// DefaultOrderLifetime is how long an order can be paid when it gives no
// time_expire: WeChat Pay closes it two hours after it was placed.
const DefaultOrderLifetime = 2 * time.Hour

// SimPayerOpenID is the openid of the simulated payer, given to an order
// paid without a payer.openid (native, app, h5): one user pays them all.
const SimPayerOpenID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"

// The trade states' descriptions, as WeChat Pay writes trade_state_desc.
var tradeStateDesc = map[string]string{
	"NOTPAY":   "订单未支付",
	"SUCCESS":  "支付成功",
	"CLOSED":   "订单已关闭",
	"REFUND":   "转入退款",
	"PAYERROR": "支付失败，用户拒绝支付",
}

// outTradeNoPattern is what WeChat Pay accepts as out_trade_no.
var outTradeNoPattern = regexp.MustCompile(`^[0-9A-Za-z_\-|*]{6,32}$`)

// The limits WeChat Pay documents for an order's fields: maxAmount is the
// largest amount in fen, WeChat's int being 32 bits; the others are
// lengths in characters.
const (
	maxAmount         = math.MaxInt32
	maxDescriptionLen = 127
	maxNotifyURLLen   = 256
)

// badField is a PARAM_ERROR about one field, answered with WeChat Pay's
// detail object.
type badField struct {
	location string // body, query
	field    string // "/amount/total" in a body, "mchid" in a query
	issue    string // what is wrong and what is expected
}

func (e *badField) Error() string {
	return fmt.Sprintf("PARAM_ERROR: %s %s: %s", e.location, e.field, e.issue)
}

// writeSimError answers err as WeChat Pay does: a *badField as
// PARAM_ERROR with its detail, anything else as writeRefusal does.
func writeSimError(w http.ResponseWriter, err error) {
	var bf *badField
	if errors.As(err, &bf) {
		JSON(w, http.StatusBadRequest, map[string]any{
			"code":    "PARAM_ERROR",
			"message": fmt.Sprintf("参数错误: %s %s: %s", bf.location, bf.field, bf.issue),
			"detail":  map[string]string{"field": bf.field, "location": bf.location, "issue": bf.issue},
		})
		return
	}
	writeRefusal(w, err)
}

// decodeBody unmarshals a JSON body into v, naming the field of a value
// of the wrong type. The amounts of an order or a refund (the numbers of
// its "amount" object) are WeChat's int: one past maxAmount is refused
// here, before it can pass for an int64.
func decodeBody(body []byte, v any) error {
	if err := checkAmounts(body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return &badField{"body", "/" + strings.ReplaceAll(te.Field, ".", "/"), fmt.Sprintf("is a JSON %s, expected %s", te.Value, jsonKind(te.Type.Kind().String()))}
		case te != nil:
			return &badField{"body", "/", fmt.Sprintf("the body is a JSON %s, expected an object", te.Value)}
		}
		return &badField{"body", "/", "the body is not JSON: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	return nil
}

// jsonKind names a Go kind as JSON does.
func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case kind == "string":
		return "a string"
	case kind == "struct", kind == "map", kind == "ptr":
		return "an object"
	}
	return kind
}

// checkAmounts refuses a number of body's "amount" object that is more
// than maxAmount, as WeChat Pay does for its int fields; whatever else is
// wrong with body is left to the decoding.
func checkAmounts(body []byte) error {
	var top struct {
		Amount map[string]json.RawMessage `json:"amount"`
	}
	if json.Unmarshal(body, &top) != nil {
		return nil
	}
	for key, raw := range top.Amount {
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			continue // not a number: the decoding names it
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if (err == nil && i > maxAmount) || (errors.Is(err, strconv.ErrRange) && i > 0) {
			return &badField{"body", "/amount/" + key, fmt.Sprintf("%s is more than %d, the largest amount in fen (WeChat Pay's int)", n, maxAmount)}
		}
	}
	return nil
}

// canonical is body with its keys sorted and its spacing removed, and a
// field that is null or "" (or an object left empty by that) dropped, as
// if omitted, to tell a repeated request from a different one; defaults,
// when given, fill what the body omits: {"amount": {"currency": "CNY"}}.
func canonical(body []byte, defaults map[string]any) json.RawMessage {
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return append(json.RawMessage(nil), body...)
	}
	v, _ = pruneEmpty(v)
	if m, ok := v.(map[string]any); ok {
		fillDefaults(m, defaults)
	}
	out, _ := json.Marshal(v)
	return out
}

// pruneEmpty drops from v's objects the fields that are null, "" or
// objects with nothing left; it reports whether v itself is such.
func pruneEmpty(v any) (any, bool) {
	switch t := v.(type) {
	case nil:
		return nil, true
	case string:
		return t, t == ""
	case map[string]any:
		for k, f := range t {
			if pruned, empty := pruneEmpty(f); empty {
				delete(t, k)
			} else {
				t[k] = pruned
			}
		}
		return t, len(t) == 0
	case []any:
		for i, e := range t {
			t[i], _ = pruneEmpty(e)
		}
	}
	return v, false
}

// fillDefaults sets in m what defaults has and m lacks, object by object.
func fillDefaults(m, defaults map[string]any) {
	for k, d := range defaults {
		sub, isObject := d.(map[string]any)
		switch cur, ok := m[k]; {
		case !ok && isObject:
			// An object the body omits gets no defaults: it stays omitted.
		case !ok:
			m[k] = d
		case isObject:
			if cm, ok := cur.(map[string]any); ok {
				fillDefaults(cm, sub)
			}
		}
	}
}

// checkURL checks a notify URL as WeChat Pay does: an absolute http or
// https URL of at most 256 characters, without parameters ("不能携带参数":
// no query, not even an empty one, and no fragment).
func checkURL(field, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return &badField{"body", field, fmt.Sprintf("%q is not a URL: expected https://host/path", raw)}
	case strings.ContainsAny(raw, "?#"):
		return &badField{"body", field, fmt.Sprintf("%q carries parameters: expected a URL without a query or a fragment", raw)}
	case utf8.RuneCountInString(raw) > maxNotifyURLLen:
		return &badField{"body", field, fmt.Sprintf("is %d characters long: expected at most %d", utf8.RuneCountInString(raw), maxNotifyURLLen)}
	}
	return nil
}

// orderRequest is the body of a v3/pay/transactions or
// v3/global/transactions order.
type orderRequest struct {
	AppID       string `json:"appid"`
	MchID       string `json:"mchid"`
	Description string `json:"description"`
	OutTradeNo  string `json:"out_trade_no"`
	TimeExpire  string `json:"time_expire"`
	Attach      string `json:"attach"`
	NotifyURL   string `json:"notify_url"`
	Amount      *struct {
		Total    *int64 `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
	Payer *struct {
		OpenID string `json:"openid"`
	} `json:"payer"`
	SceneInfo *struct {
		PayerClientIP string `json:"payer_client_ip"`
	} `json:"scene_info"`
}

// checkOrderRequest checks an order as WeChat Pay does; kind is the last
// segment of its path (jsapi, native, app, h5, mweb).
func (s *Simulator) checkOrderRequest(req *orderRequest, global bool, kind string) error {
	required := func(field string) error { return &badField{"body", field, "required, missing or empty"} }
	switch {
	case req.AppID == "":
		return required("/appid")
	case req.MchID == "":
		return required("/mchid")
	case req.Description == "":
		return required("/description")
	case utf8.RuneCountInString(req.Description) > maxDescriptionLen:
		return &badField{"body", "/description", fmt.Sprintf("is %d characters long: expected at most %d", utf8.RuneCountInString(req.Description), maxDescriptionLen)}
	case req.OutTradeNo == "":
		return required("/out_trade_no")
	case !outTradeNoPattern.MatchString(req.OutTradeNo):
		return &badField{"body", "/out_trade_no", fmt.Sprintf("%q is not 6 to 32 characters of [0-9A-Za-z_-|*]", req.OutTradeNo)}
	case req.NotifyURL == "":
		return required("/notify_url")
	case req.Amount == nil || req.Amount.Total == nil:
		return required("/amount/total")
	case *req.Amount.Total <= 0:
		return &badField{"body", "/amount/total", fmt.Sprintf("%d is not a positive amount in fen", *req.Amount.Total)}
	case global && req.Amount.Currency == "":
		return required("/amount/currency")
	case !global && req.Amount.Currency != "" && req.Amount.Currency != "CNY":
		return &badField{"body", "/amount/currency", fmt.Sprintf("%q: a domestic order is paid in CNY; give CNY or leave it out", req.Amount.Currency)}
	case kind == "jsapi" && (req.Payer == nil || req.Payer.OpenID == ""):
		return required("/payer/openid")
	case (kind == "h5" || kind == "mweb") && (req.SceneInfo == nil || req.SceneInfo.PayerClientIP == ""):
		return required("/scene_info/payer_client_ip")
	}
	if err := checkURL("/notify_url", req.NotifyURL); err != nil {
		return err
	}
	if c := req.Amount.Currency; c != "" && (len(c) != 3 || strings.ToUpper(c) != c) {
		return &badField{"body", "/amount/currency", fmt.Sprintf("%q is not a currency code such as CNY", c)}
	}
	if req.TimeExpire != "" {
		if _, err := time.Parse(time.RFC3339, req.TimeExpire); err != nil {
			return &badField{"body", "/time_expire", fmt.Sprintf("%q is not an RFC 3339 time such as 2018-06-08T10:34:56+08:00", req.TimeExpire)}
		}
	}
	if req.MchID != s.MchID {
		return &badField{"body", "/mchid", fmt.Sprintf("%s is not the merchant %s of the request signature", req.MchID, s.MchID)}
	}
	return nil
}

// routePayments serves the payment endpoints on the simulation's state.
func (s *Simulator) routePayments() {
	for kind, tradeType := range map[string]string{"jsapi": "JSAPI", "native": "NATIVE", "app": "APP", "h5": "MWEB"} {
		s.Handle("POST /v3/pay/transactions/"+kind, s.placeOrder(false, kind, tradeType))
	}
	for kind, tradeType := range map[string]string{"jsapi": "JSAPI", "native": "NATIVE", "app": "APP", "mweb": "MWEB"} {
		s.Handle("POST /v3/global/transactions/"+kind, s.placeOrder(true, kind, tradeType))
	}
	for _, global := range []bool{false, true} {
		base := "/v3/pay/transactions/"
		if global {
			base = "/v3/global/transactions/"
		}
		s.Handle("GET "+base+"id/{transaction_id}", s.queryOrder(global))
		s.Handle("GET "+base+"out-trade-no/{out_trade_no}", s.queryOrder(global))
		s.Handle("POST "+base+"out-trade-no/{out_trade_no}/close", s.closeOrder(global))
	}
	s.Handle("POST /v3/global/transactions/id/{transaction_id}/close", s.closeOrder(true))
}

// placeOrder answers an order placed with kind (jsapi, native, ...).
func (s *Simulator) placeOrder(global bool, kind, tradeType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req orderRequest
		body, err := readJSON(r, &req)
		if err != nil {
			writeSimError(w, err)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		now := s.now()
		if err := s.checkOrderRequest(&req, global, kind); err != nil {
			writeSimError(w, err)
			return
		}
		var defaults map[string]any
		if !global {
			defaults = map[string]any{"amount": map[string]any{"currency": "CNY"}}
		}
		content := canonical(body, defaults)
		if o, ok := s.orders[req.OutTradeNo]; ok {
			s.expire(o)
			switch {
			case o.State == "SUCCESS" || o.State == "REFUND":
				writeSimError(w, refuse(http.StatusBadRequest, "ORDERPAID", "该订单已支付: order %s was paid, place a new order with another out_trade_no", o.OutTradeNo))
			case o.State == "CLOSED":
				writeSimError(w, refuse(http.StatusBadRequest, "ORDER_CLOSED", "该订单已关闭: order %s is closed, place a new order with another out_trade_no", o.OutTradeNo))
			case o.Global != global || o.TradeType != tradeType || !bytes.Equal(o.body, content):
				writeSimError(w, refuse(http.StatusBadRequest, "INVALID_REQUEST", "201 商户订单号重复: out_trade_no %s was placed with other content; a repeated order must be identical", o.OutTradeNo))
			default:
				JSON(w, http.StatusOK, placedAnswer(o))
			}
			return
		}
		o := &Order{
			Global: global, AppID: req.AppID, MchID: req.MchID, Description: req.Description,
			OutTradeNo: req.OutTradeNo, TradeType: tradeType, State: "NOTPAY", StateDesc: tradeStateDesc["NOTPAY"],
			Total: *req.Amount.Total, Currency: req.Amount.Currency, Attach: req.Attach, NotifyURL: req.NotifyURL,
			Created: now, Expires: now.Add(DefaultOrderLifetime), body: content,
		}
		if o.Currency == "" {
			o.Currency = "CNY"
		}
		if req.Payer != nil {
			o.OpenID = req.Payer.OpenID
		}
		if req.TimeExpire != "" {
			t, _ := time.Parse(time.RFC3339, req.TimeExpire) // checked above
			if !t.After(now) {
				writeSimError(w, &badField{"body", "/time_expire", fmt.Sprintf("%s is not after the current time %s", req.TimeExpire, wxTime(now))})
				return
			}
			o.Expires = t.In(cst)
		}
		o.PrepayID = s.nextID("wx", 36)
		switch tradeType {
		case "NATIVE":
			o.CodeURL = "weixin://wxpay/bizpayurl?pr=" + shortCode(s.seq)
		case "MWEB":
			o.H5URL = "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=" + o.PrepayID + "&package=" + strconv.FormatInt(1000000000+s.seq, 10)
		}
		s.orders[o.OutTradeNo] = o
		JSON(w, http.StatusOK, placedAnswer(o))
	}
}

// shortCode is the pr of a code_url: seven characters, unique in the
// simulation.
func shortCode(n int64) string {
	code := strconv.FormatInt(n, 36)
	if len(code) < 7 {
		code = strings.Repeat("0", 7-len(code)) + code
	}
	return code
}

// placedAnswer is what placing o answers.
func placedAnswer(o *Order) map[string]string {
	switch o.TradeType {
	case "NATIVE":
		return map[string]string{"code_url": o.CodeURL}
	case "MWEB":
		return map[string]string{"h5_url": o.H5URL}
	}
	return map[string]string{"prepay_id": o.PrepayID}
}

// readJSON reads a request's body, already checked by the server, into v
// (see decodeBody), and returns it.
func readJSON(r *http.Request, v any) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return nil, &badField{"body", "/", "the body cannot be read: " + err.Error()}
	}
	if err := decodeBody(buf.Bytes(), v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkQueryMchID checks the mchid a query must carry.
func (s *Simulator) checkQueryMchID(r *http.Request) error {
	switch mchid := query(r).Get("mchid"); {
	case mchid == "":
		return &badField{"query", "mchid", "required, missing or empty"}
	case mchid != s.MchID:
		return &badField{"query", "mchid", fmt.Sprintf("%s is not the merchant %s of the request signature", mchid, s.MchID)}
	}
	return nil
}

// findOrder returns the order r's path names (transaction_id or
// out_trade_no) among the domestic or the global ones; the caller holds
// s.mu.
func (s *Simulator) findOrder(r *http.Request, global bool) (*Order, error) {
	var o *Order
	key, value := "transaction_id", r.PathValue("transaction_id")
	if value != "" {
		o = s.txByID[value]
	} else {
		key, value = "out_trade_no", r.PathValue("out_trade_no")
		o = s.orders[value]
	}
	if o == nil || o.Global != global {
		where := "domestic"
		if global {
			where = "global (v3/global/transactions)"
		}
		return nil, refuse(http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在: no %s order with %s %q", where, key, value)
	}
	s.expire(o)
	return o, nil
}

// queryOrder answers the transaction of an order.
func (s *Simulator) queryOrder(global bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.checkQueryMchID(r); err != nil {
			writeSimError(w, err)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		o, err := s.findOrder(r, global)
		if err != nil {
			writeSimError(w, err)
			return
		}
		JSON(w, http.StatusOK, transactionJSON(o))
	}
}

// closeOrder closes an unpaid order: 204, also when it was closed
// already, as WeChat Pay takes a repeated close for a success; a paid
// order is not closed (400 ORDERPAID).
func (s *Simulator) closeOrder(global bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			MchID string `json:"mchid"`
		}
		if _, err := readJSON(r, &req); err != nil {
			writeSimError(w, err)
			return
		}
		switch {
		case req.MchID == "":
			writeSimError(w, &badField{"body", "/mchid", "required, missing or empty"})
			return
		case req.MchID != s.MchID:
			writeSimError(w, &badField{"body", "/mchid", fmt.Sprintf("%s is not the merchant %s of the request signature", req.MchID, s.MchID)})
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		o, err := s.findOrder(r, global)
		if err != nil {
			writeSimError(w, err)
			return
		}
		switch o.State {
		case "SUCCESS", "REFUND":
			writeSimError(w, refuse(http.StatusBadRequest, "ORDERPAID", "订单已支付: order %s was paid and cannot be closed; refund it instead", o.OutTradeNo))
			return
		case "NOTPAY", "PAYERROR":
			o.State, o.StateDesc, o.Closed = "CLOSED", tradeStateDesc["CLOSED"], s.now()
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// transactionJSON is o as WeChat Pay answers a query and notifies its
// payment: transaction_id, bank_type and success_time once paid.
func transactionJSON(o *Order) map[string]any {
	amount := map[string]any{"total": o.Total, "currency": o.Currency, "payer_currency": o.Currency}
	payer := map[string]any{}
	if o.OpenID != "" {
		payer["openid"] = o.OpenID
	}
	tx := map[string]any{
		"appid": o.AppID, "mchid": o.MchID, "out_trade_no": o.OutTradeNo,
		"trade_type": o.TradeType, "trade_state": o.State, "trade_state_desc": o.StateDesc,
		"attach": o.Attach, "payer": payer, "amount": amount,
	}
	if !o.Paid.IsZero() {
		tx["transaction_id"] = o.TransactionID
		tx["bank_type"] = "OTHERS"
		tx["success_time"] = wxTime(o.Paid)
		amount["payer_total"] = o.Total
	}
	return tx
}

// expire closes o when its time_expire has passed unpaid; the caller holds
// s.mu.
func (s *Simulator) expire(o *Order) {
	if (o.State == "NOTPAY" || o.State == "PAYERROR") && !s.now().Before(o.Expires) {
		o.State, o.StateDesc, o.Closed = "CLOSED", tradeStateDesc["CLOSED"], o.Expires
	}
}

// payable returns the order placed with outTradeNo if it can still be
// paid or declined; the caller holds s.mu.
func (s *Simulator) payable(outTradeNo string) (*Order, error) {
	o, ok := s.orders[outTradeNo]
	if !ok {
		return nil, refuse(http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在: no order %q", outTradeNo)
	}
	s.expire(o)
	switch o.State {
	case "CLOSED":
		return nil, refuse(http.StatusBadRequest, "ORDER_CLOSED", "订单已关闭: order %s is closed (closed or expired at %s)", outTradeNo, wxTime(o.Closed))
	case "SUCCESS", "REFUND":
		return nil, refuse(http.StatusBadRequest, "ORDERPAID", "订单已支付: order %s was paid at %s", outTradeNo, wxTime(o.Paid))
	}
	return o, nil
}

// Pay pays the order placed with outTradeNo as its payer would, and sends
// the TRANSACTION.SUCCESS notification; it returns when the first attempt
// to deliver it is done. An order that is NOTPAY or PAYERROR (declined
// before) can be paid; otherwise Pay returns a *SimError: ORDER_NOT_EXIST,
// ORDER_CLOSED (closed or expired) or ORDERPAID. The payer is the order's
// payer.openid, else SimPayerOpenID.
func (s *Simulator) Pay(outTradeNo string) error {
	return s.act(func() error {
		o, err := s.payable(outTradeNo)
		if err != nil {
			return err
		}
		o.State, o.StateDesc, o.Paid = "SUCCESS", tradeStateDesc["SUCCESS"], s.now()
		o.TransactionID = s.nextID("4200", 28)
		s.txByID[o.TransactionID] = o
		if o.OpenID == "" {
			o.OpenID = SimPayerOpenID
		}
		s.notify(o.NotifyURL, "TRANSACTION.SUCCESS", "transaction", "支付成功", transactionJSON(o))
		return nil
	})
}

// Decline has the payer of the order placed with outTradeNo refuse to pay:
// the order becomes PAYERROR, and can still be paid until it expires or is
// closed. No notification is sent: WeChat Pay notifies only successful
// payments. It returns a *SimError as Pay does.
func (s *Simulator) Decline(outTradeNo string) error {
	if !s.live() {
		return errSimNotRunning
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.payable(outTradeNo)
	if err != nil {
		return err
	}
	o.State, o.StateDesc = "PAYERROR", tradeStateDesc["PAYERROR"]
	return nil
}
