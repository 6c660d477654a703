package wechatpaytest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// The day's bills, as a reconciliation job reads them: the trade bill
// (v3/bill/tradebill, APIv2 pay/downloadbill) holds a line per transaction
// paid that day and per refund settled that day (+08:00); the fund flow
// bill (v3/bill/fundflowbill) the day's movements of the basic account,
// with the balance after each. Both are CSV in UTF-8 with a BOM, every
// value prefixed with a backtick, amounts in yuan.

// tradeBillHeader is the header line of a trade bill.
const tradeBillHeader = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态," +
	"付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态," +
	"商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"

// tradeBillSummary is the header of a trade bill's summary line.
const tradeBillSummary = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"

// fundFlowHeader and fundFlowSummary are a fund flow bill's header lines.
const (
	fundFlowHeader  = "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号"
	fundFlowSummary = "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额"
)

// billFeeRate is the simulated service fee: 0.60% of what was paid, and
// given back in proportion on a refund.
const billFeeRate = "0.60%"

// billBOM starts every bill file.
const billBOM = "\ufeff"

// billTime writes t as bills do: "2006-01-02 15:04:05" in +08:00.
func billTime(t time.Time) string { return t.In(cst).Format(time.DateTime) }

// billYuan writes an amount in fen as yuan with two decimals.
func billYuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// billFee is the fee on fen in fen: 0.60% of it rounded half up to the
// fen, as WeChat Pay charges it (1 fen pays 0.00, 199 fen 0.01). A refund
// gives back the fee of the amount refunded, rounded the same way: the
// caller negates it. fen*6 cannot overflow for any amount WeChat Pay
// takes (at most 2147483647 fen).
func billFee(fen int64) int64 {
	if fen < 0 {
		return -billFee(-fen)
	}
	return (fen*6 + 500) / 1000
}

// billFeeYuan writes a fee in fen as bills write fees: yuan with five
// decimals ("0.01000"), the last three always zero.
func billFeeYuan(fen int64) string { return billYuan(fen) + "000" }

// billLine writes values as one bill line: each prefixed with a backtick.
func billLine(b *bytes.Buffer, values ...string) {
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("`" + v)
	}
	b.WriteString("\r\n")
}

// billDay reads a bill_date in layout ("2006-01-02" for APIv3, "20060102"
// for APIv2) as that day in +08:00, and refuses a date after the
// simulation's today; the caller holds s.mu. A day's bill is served from
// the day itself (WeChat Pay makes it the next morning).
func (s *Simulator) billDay(date, layout string) (time.Time, error) {
	if date == "" {
		return time.Time{}, &badField{"query", "bill_date", "required"}
	}
	day, err := time.ParseInLocation(layout, date, cst)
	if err != nil || len(date) != len(layout) {
		return time.Time{}, &badField{"query", "bill_date", fmt.Sprintf("bill_date %q: expected a date written %s", date, strings.NewReplacer("2006", "yyyy", "01", "MM", "02", "dd").Replace(layout))}
	}
	today := s.now()
	if day.After(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, cst)) {
		return time.Time{}, refuse(http.StatusBadRequest, "INVALID_REQUEST", "bill_date %s is after today (%s): there is no bill for it yet", date, today.Format(time.DateOnly))
	}
	return day, nil
}

// sameDay reports whether t falls on day (+08:00).
func sameDay(t, day time.Time) bool {
	if t.IsZero() {
		return false
	}
	y1, m1, d1 := t.In(cst).Date()
	y2, m2, d2 := day.Date()
	return y1 == y2 && m1 == m2 && d1 == d2
}

// billEntry is a line of a bill: a payment or a settled refund.
type billEntry struct {
	at     time.Time
	order  *Order
	refund *Refund // nil for a payment
}

// billEntries are every payment and settled refund, oldest first; the
// caller holds s.mu.
func (s *Simulator) billEntries() []billEntry {
	var out []billEntry
	for _, o := range s.orders {
		if !o.Paid.IsZero() {
			out = append(out, billEntry{at: o.Paid, order: o})
		}
	}
	for _, r := range s.refunds {
		if r.Status == "SUCCESS" && !r.Finished.IsZero() {
			o := s.orders[r.OutTradeNo]
			if o == nil {
				o = s.txByID[r.TransactionID]
			}
			if o == nil {
				o = &Order{OutTradeNo: r.OutTradeNo, TransactionID: r.TransactionID, Total: r.Total, Currency: r.Currency}
			}
			out = append(out, billEntry{at: r.Finished, order: o, refund: r})
		}
	}
	slices.SortFunc(out, func(a, b billEntry) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		if (a.refund == nil) != (b.refund == nil) {
			if a.refund == nil {
				return -1
			}
			return 1
		}
		if a.refund != nil {
			return strings.Compare(a.refund.OutRefundNo, b.refund.OutRefundNo)
		}
		return strings.Compare(a.order.OutTradeNo, b.order.OutTradeNo)
	})
	return out
}

// tradeBill is the trade bill of day, uncompressed, or nil when it has no
// line; the caller holds s.mu.
func (s *Simulator) tradeBill(day time.Time, billType string) []byte {
	var b bytes.Buffer
	b.WriteString(billBOM + tradeBillHeader + "\r\n")
	var n, settled, refunded, fees, ordered, asked int64
	for _, e := range s.billEntries() {
		if !sameDay(e.at, day) || (billType == "SUCCESS" && e.refund != nil) || (billType == "REFUND" && e.refund == nil) {
			continue
		}
		o := e.order
		mch := o.MchID
		if mch == "" {
			mch = s.MchID
		}
		currency := o.Currency
		if currency == "" {
			currency = "CNY"
		}
		n++
		if e.refund == nil {
			fee := billFee(o.Total)
			settled, ordered, fees = settled+o.Total, ordered+o.Total, fees+fee
			billLine(&b, billTime(e.at), o.AppID, mch, "0", "", o.TransactionID, o.OutTradeNo, o.OpenID,
				o.TradeType, "SUCCESS", "OTHERS", currency, billYuan(o.Total), "0.00", "0", "0", "0.00", "0.00", "", "",
				o.Description, o.Attach, billFeeYuan(fee), billFeeRate, billYuan(o.Total), "0.00", "")
			continue
		}
		r := e.refund
		fee := -billFee(r.Refund)
		channel := r.Channel
		if channel == "" {
			channel = "ORIGINAL"
		}
		refunded, asked, fees = refunded+r.Refund, asked+r.Refund, fees+fee
		billLine(&b, billTime(e.at), o.AppID, mch, "0", "", o.TransactionID, o.OutTradeNo, o.OpenID,
			o.TradeType, "REFUND", "OTHERS", currency, "0.00", "0.00", r.RefundID, r.OutRefundNo, billYuan(r.Refund), "0.00",
			channel, "SUCCESS", o.Description, o.Attach, billFeeYuan(fee), billFeeRate, "0.00", billYuan(r.Refund), "")
	}
	if n == 0 {
		return nil
	}
	b.WriteString(tradeBillSummary + "\r\n")
	// The count is written with a decimal, as WeChat Pay writes it.
	billLine(&b, fmt.Sprintf("%d.0", n), billYuan(settled), billYuan(refunded), "0.00", billFeeYuan(fees), billYuan(ordered), billYuan(asked))
	return b.Bytes()
}

// fundFlowBill is the fund flow bill of the basic account for day, or nil
// when nothing moved that day; the caller holds s.mu. The balance starts
// at zero with the simulation and runs over every day before.
func (s *Simulator) fundFlowBill(day time.Time) []byte {
	var b bytes.Buffer
	b.WriteString(billBOM + fundFlowHeader + "\r\n")
	var balance, n, in, inFen, out, outFen int64
	for i, e := range s.billEntries() {
		amount, id, voucher, name, kind, who := e.order.Total, e.order.TransactionID, e.order.OutTradeNo, "交易", "收入", "system"
		if e.refund != nil {
			amount, id, voucher, name, kind = -e.refund.Refund, e.refund.RefundID, e.refund.OutRefundNo, "退款", "支出"
			who = s.MchID
		}
		balance += amount
		if !sameDay(e.at, day) {
			continue
		}
		n++
		if amount >= 0 {
			in, inFen = in+1, inFen+amount
		} else {
			out, outFen = out+1, outFen-amount
		}
		flow := fmt.Sprintf("%s%06d", e.at.In(cst).Format("20060102150405"), i+1)
		billLine(&b, billTime(e.at), id, flow, name, name, kind, billYuan(max(amount, -amount)), billYuan(balance), who, "", voucher)
	}
	if n == 0 {
		return nil
	}
	b.WriteString(fundFlowSummary + "\r\n")
	billLine(&b, fmt.Sprint(n), fmt.Sprint(in), billYuan(inFen), fmt.Sprint(out), billYuan(outFen))
	return b.Bytes()
}

// billFiles are the files the download_urls of the bill answers point to,
// by token; each knows its Simulator, so that one simulation cannot serve
// another's file.
var billFiles = struct {
	sync.Mutex
	m     map[string]billFile
	order []string // oldest first, to keep the last billFilesKept
}{m: map[string]billFile{}}

// billFilesKept is how many bill files are kept for download.
const billFilesKept = 1000

type billFile struct {
	sim  *Simulator
	data []byte // as served: gzip when asked
}

// keepBill stores data for download and returns its token.
func (s *Simulator) keepBill(data []byte) string {
	token := randomHex(16)
	billFiles.Lock()
	defer billFiles.Unlock()
	billFiles.m[token] = billFile{sim: s, data: data}
	billFiles.order = append(billFiles.order, token)
	if len(billFiles.order) > billFilesKept {
		delete(billFiles.m, billFiles.order[0])
		billFiles.order = billFiles.order[1:]
	}
	return token
}

// billAnswer is the answer of v3/bill/tradebill and v3/bill/fundflowbill
// for file: its download_url, on the host the request came to, and the
// SHA1 of the file uncompressed (what WeChat Pay's hash_value covers,
// gzip or not).
func (s *Simulator) billAnswer(r *http.Request, file []byte, gzipped bool) (map[string]string, error) {
	served := file
	if gzipped {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		if _, err := zw.Write(file); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		served = z.Bytes()
	}
	sum := sha1.Sum(file)
	host := r.Host
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	scheme := "http"
	if r.TLS != nil || strings.HasSuffix(name, ".weixin.qq.com") {
		scheme = "https"
	}
	return map[string]string{
		"hash_type":    "SHA1",
		"hash_value":   hex.EncodeToString(sum[:]),
		"download_url": scheme + "://" + host + s.basePath + "v3/billdownload/file?token=" + s.keepBill(served),
	}, nil
}

// routeBills serves the bill endpoints on the simulation's state.
func (s *Simulator) routeBills() {
	answer := func(w http.ResponseWriter, r *http.Request, file []byte, err error) {
		if err != nil {
			writeSimError(w, err)
			return
		}
		tar := query(r).Get("tar_type")
		if tar != "" && tar != "GZIP" {
			writeSimError(w, &badField{"query", "tar_type", fmt.Sprintf("tar_type %q: expected GZIP, or nothing for the file uncompressed", tar)})
			return
		}
		out, err := s.billAnswer(r, file, tar == "GZIP")
		if err != nil {
			writeRefusal(w, err)
			return
		}
		JSON(w, http.StatusOK, out)
	}
	s.Handle("GET /v3/bill/tradebill", func(w http.ResponseWriter, r *http.Request) {
		q := query(r)
		file, err := s.tradeBillFor(q.Get("bill_date"), q.Get("bill_type"), time.DateOnly)
		answer(w, r, file, err)
	})
	s.Handle("GET /v3/bill/fundflowbill", func(w http.ResponseWriter, r *http.Request) {
		q := query(r)
		file, err := s.fundFlowBillFor(q.Get("bill_date"), q.Get("account_type"))
		answer(w, r, file, err)
	})
	s.Handle("GET /v3/billdownload/file", func(w http.ResponseWriter, r *http.Request) {
		token := query(r).Get("token")
		billFiles.Lock()
		f, ok := billFiles.m[token]
		billFiles.Unlock()
		if !ok || f.sim != s {
			Error(w, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "no bill file for this token: ask v3/bill/tradebill or v3/bill/fundflowbill for a download_url")
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(f.data)
	})
}

// tradeBillFor checks a trade bill request and returns the file; layout
// is how bill_date is written.
func (s *Simulator) tradeBillFor(date, billType, layout string) ([]byte, error) {
	switch billType {
	case "":
		billType = "ALL"
	case "ALL", "SUCCESS", "REFUND":
	default:
		return nil, &badField{"query", "bill_type", fmt.Sprintf("bill_type %q: expected ALL, SUCCESS or REFUND", billType)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	day, err := s.billDay(date, layout)
	if err != nil {
		return nil, err
	}
	file := s.tradeBill(day, billType)
	if file == nil {
		return nil, refuse(http.StatusBadRequest, "NO_STATEMENT_EXIST", "no %s bill for %s: nothing was paid or refunded that day", billType, date)
	}
	return file, nil
}

// fundFlowBillFor checks a fund flow bill request and returns the file.
func (s *Simulator) fundFlowBillFor(date, account string) ([]byte, error) {
	switch account {
	case "", "BASIC", "OPERATION", "FEES":
	default:
		return nil, &badField{"query", "account_type", fmt.Sprintf("account_type %q: expected BASIC, OPERATION or FEES", account)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	day, err := s.billDay(date, time.DateOnly)
	if err != nil {
		return nil, err
	}
	var file []byte
	if account == "" || account == "BASIC" {
		// Only the basic account moves in the simulation.
		file = s.fundFlowBill(day)
	}
	if file == nil {
		if account == "" {
			account = "BASIC"
		}
		return nil, refuse(http.StatusBadRequest, "NO_STATEMENT_EXIST", "no fund flow bill of the %s account for %s: nothing moved that day", account, date)
	}
	return file, nil
}

// asSimError turns a refusal of a field into the *SimError the
// Simulator's methods return.
func asSimError(err error) error {
	var f *badField
	if errors.As(err, &f) {
		if f.issue == "required" {
			return refuse(http.StatusBadRequest, "PARAM_ERROR", "%s is required", f.field)
		}
		return refuse(http.StatusBadRequest, "PARAM_ERROR", "%s", f.issue)
	}
	return err
}

// TradeBill is the trade bill of date ("2006-01-02", in +08:00) as the
// download_url of v3/bill/tradebill serves it, uncompressed: billType is
// ALL (or empty), SUCCESS or REFUND. It holds a line per transaction paid
// that day and per refund settled that day, then the summary. A date
// after today or a day with nothing to bill is refused as v3/bill/tradebill
// refuses it (a *SimError: INVALID_REQUEST, NO_STATEMENT_EXIST).
func (s *Simulator) TradeBill(date, billType string) ([]byte, error) {
	if !s.live() {
		return nil, errSimNotRunning
	}
	file, err := s.tradeBillFor(date, billType, time.DateOnly)
	return file, asSimError(err)
}

// FundFlowBill is the fund flow bill of date ("2006-01-02", in +08:00) of
// the basic account, as v3/bill/fundflowbill's download_url serves it: a
// line per payment (income) and settled refund (expense) that day, with
// the account's balance after it, then the summary.
func (s *Simulator) FundFlowBill(date string) ([]byte, error) {
	if !s.live() {
		return nil, errSimNotRunning
	}
	file, err := s.fundFlowBillFor(date, "BASIC")
	return file, asSimError(err)
}
