package wechatpaytest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
)

// billDay1 and billDay2 are the two days the bill tests seed: the
// simulation starts on day 1 at 10:00.
var (
	billDay1 = internalStart // 2026-03-14
	billDay2 = internalStart.Add(24 * time.Hour)
)

// seedTwoDays makes a simulation with two days of business and its clock
// on day 2, 10:00:
//
//	day 1: T1 12.34 paid 10:00:05, T2 0.99 paid 11:30, R1 5.00 of T1 settled 15:00
//	day 2: T3 20.00 paid 09:00, R2 0.99 of T2 settled 09:30
func seedTwoDays(t *testing.T) (*Simulator, *wechatpay.Builder) {
	t.Helper()
	s := NewSimulator(WithVirtualClock(internalStart))
	t.Cleanup(s.Close)
	t1 := seedPaid(t, s, "bill-T1", "会员月卡", 1234, billDay1.Add(5*time.Second))
	t2 := seedPaid(t, s, "bill-T2", "贴纸", 99, billDay1.Add(90*time.Minute))
	seedRefund(t, s, t1, "bill-R1", 500, billDay1.Add(5*time.Hour))
	seedPaid(t, s, "bill-T3", "年卡", 2000, billDay2.Add(-time.Hour))
	seedRefund(t, s, t2, "bill-R2", 99, billDay2.Add(-30*time.Minute))
	s.Advance(24 * time.Hour)
	b, err := wechatpay.NewBuilder(s.Config())
	require.NoError(t, err)
	return s, b
}

// parsedBill is a bill file read as a reconciliation job reads it.
type parsedBill struct {
	header, summaryHeader []string
	rows                  [][]string // backticks removed
	summary               []string
}

// parseBill reads a bill: BOM, header, lines, summary header, summary.
func parseBill(t *testing.T, data []byte) parsedBill {
	t.Helper()
	text, ok := strings.CutPrefix(string(data), "\ufeff")
	require.True(t, ok, "a bill starts with a UTF-8 BOM")
	lines := strings.Split(strings.TrimRight(text, "\r\n"), "\r\n")
	require.GreaterOrEqual(t, len(lines), 3)
	values := func(line string) []string {
		var out []string
		for _, v := range strings.Split(line, ",") {
			v, ok := strings.CutPrefix(v, "`")
			require.True(t, ok, "every value starts with a backtick: %q", line)
			out = append(out, v)
		}
		return out
	}
	p := parsedBill{header: strings.Split(lines[0], ","), summaryHeader: strings.Split(lines[len(lines)-2], ",")}
	for _, l := range lines[1 : len(lines)-2] {
		p.rows = append(p.rows, values(l))
	}
	p.summary = values(lines[len(lines)-1])
	return p
}

// column returns the value of row under name.
func (p parsedBill) column(t *testing.T, row []string, name string) string {
	t.Helper()
	for i, h := range p.header {
		if h == name {
			require.Len(t, row, len(p.header))
			return row[i]
		}
	}
	t.Fatalf("no column %s in %v", name, p.header)
	return ""
}

// askBill asks for a bill and returns the answer.
func askBill(t *testing.T, b *wechatpay.Builder, chain string, q url.Values) wechatpay.Bill {
	t.Helper()
	resp, err := b.Chain(chain).Get(context.Background(), wechatpay.Options{Query: q})
	require.NoError(t, err)
	var bill wechatpay.Bill
	require.NoError(t, resp.Decode(&bill))
	return bill
}

// TestSimBillReconciliation: the ALL trade bill of day 1, downloaded with
// the library's DownloadBill (which checks the hash), holds day 1's two
// payments and its refund, not day 2's, with the summary's totals.
func TestSimBillReconciliation(t *testing.T) {
	t.Parallel()
	s, b := seedTwoDays(t)
	bill := askBill(t, b, "v3/bill/tradebill", url.Values{"bill_date": {"2026-03-14"}, "bill_type": {"ALL"}})
	assert.Equal(t, "SHA1", bill.HashType)
	assert.True(t, strings.HasPrefix(bill.DownloadURL, "https://api.mch.weixin.qq.com/v3/billdownload/file?token="), bill.DownloadURL)

	path := filepath.Join(t.TempDir(), "tradebill.csv")
	require.NoError(t, b.DownloadBill(context.Background(), bill, path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	same, err := s.TradeBill("2026-03-14", "ALL")
	require.NoError(t, err)
	assert.Equal(t, string(same), string(data), "TradeBill is the file the download_url serves")

	p := parseBill(t, data)
	assert.Equal(t, strings.Split(tradeBillHeader, ","), p.header)
	require.Len(t, p.rows, 3)
	want := []struct{ time, outTradeNo, state, settled, refundNo, refund, fee, total string }{
		{"2026-03-14 10:00:05", "bill-T1", "SUCCESS", "12.34", "0", "0.00", "0.07000", "12.34"},
		{"2026-03-14 11:30:00", "bill-T2", "SUCCESS", "0.99", "0", "0.00", "0.01000", "0.99"},
		{"2026-03-14 15:00:00", "bill-T1", "REFUND", "0.00", "bill-R1", "5.00", "-0.03000", "0.00"},
	}
	for i, w := range want {
		row := p.rows[i]
		assert.Equal(t, w.time, p.column(t, row, "交易时间"), "row %d", i)
		assert.Equal(t, w.outTradeNo, p.column(t, row, "商户订单号"), "row %d", i)
		assert.Equal(t, w.state, p.column(t, row, "交易状态"), "row %d", i)
		assert.Equal(t, w.settled, p.column(t, row, "应结订单金额"), "row %d", i)
		assert.Equal(t, w.refundNo, p.column(t, row, "商户退款单号"), "row %d", i)
		assert.Equal(t, w.refund, p.column(t, row, "退款金额"), "row %d", i)
		assert.Equal(t, w.fee, p.column(t, row, "手续费"), "row %d", i)
		assert.Equal(t, w.total, p.column(t, row, "订单金额"), "row %d", i)
		assert.Equal(t, s.MchID, p.column(t, row, "商户号"), "row %d", i)
		assert.Equal(t, "JSAPI", p.column(t, row, "交易类型"), "row %d", i)
		assert.Equal(t, "0.60%", p.column(t, row, "费率"), "row %d", i)
	}
	t1, _ := s.Order("bill-T1")
	assert.Equal(t, t1.TransactionID, p.column(t, p.rows[2], "微信订单号"), "a refund line names the order it refunds")
	r1, _ := s.Refund("bill-R1")
	assert.Equal(t, r1.RefundID, p.column(t, p.rows[2], "微信退款单号"))
	assert.Equal(t, "ORIGINAL", p.column(t, p.rows[2], "退款类型"))
	assert.Equal(t, "会员月卡", p.column(t, p.rows[0], "商品名称"))

	assert.Equal(t, strings.Split(tradeBillSummary, ","), p.summaryHeader)
	assert.Equal(t, []string{"3.0", "13.33", "5.00", "0.00", "0.05000", "13.33", "5.00"}, p.summary)
}

// TestSimBillFees: each line's fee is 0.60% of its amount rounded half up
// to the fen, written with five decimals as WeChat Pay's bills write it; a
// refund line carries the negative of its refund's fee; the summary's fee
// is the sum of the lines; the largest amount WeChat Pay takes overflows
// nothing.
func TestSimBillFees(t *testing.T) {
	t.Parallel()
	s := NewSimulator(WithVirtualClock(internalStart))
	t.Cleanup(s.Close)
	at := func(i int) time.Time { return billDay1.Add(time.Duration(i+1) * time.Minute) }
	want := []struct {
		total   int64
		refund  int64 // 0: none
		fee     string
		settled string
		refFee  string
	}{
		{1, 0, "0.00000", "0.01", ""},
		{83, 0, "0.00000", "0.83", ""},                                           // 0.498 fen
		{84, 0, "0.01000", "0.84", ""},                                           // 0.504 fen
		{199, 199, "0.01000", "1.99", "-0.01000"},                                // 1.194 fen
		{250, 83, "0.02000", "2.50", "0.00000"},                                  // 1.5 fen; 83: 0.498 fen
		{2147483647, 2147483647, "128849.02000", "21474836.47", "-128849.02000"}, // 12884901.882 fen
	}
	orders := make([]*Order, len(want))
	for i, w := range want {
		orders[i] = seedPaid(t, s, fmt.Sprintf("fee-T%d", i), "fees", w.total, at(i))
	}
	for i, w := range want {
		if w.refund != 0 {
			seedRefund(t, s, orders[i], fmt.Sprintf("fee-R%d", i), w.refund, at(len(want)+i))
		}
	}
	data, err := s.TradeBill("2026-03-14", "ALL")
	require.NoError(t, err)
	p := parseBill(t, data)
	var got, wantFees []string
	for _, row := range p.rows {
		got = append(got, p.column(t, row, "商户订单号")+" "+p.column(t, row, "应结订单金额")+" "+p.column(t, row, "退款金额")+" "+p.column(t, row, "手续费"))
	}
	for i, w := range want {
		wantFees = append(wantFees, fmt.Sprintf("fee-T%d %s 0.00 %s", i, w.settled, w.fee))
	}
	for i, w := range want {
		if w.refund != 0 {
			wantFees = append(wantFees, fmt.Sprintf("fee-T%d 0.00 %s %s", i, billYuan(w.refund), w.refFee))
		}
	}
	assert.Equal(t, wantFees, got)
	// Fees: 0+0+1+1+2+12884902 fen on the payments, less 1+0+12884902 on
	// the refunds.
	assert.Equal(t, []string{"9.0", "21474842.64", "21474839.29", "0.00", "0.03000", "21474842.64", "21474839.29"}, p.summary)
}

// TestSimBillGzip: tar_type GZIP serves the bill gzipped, and the hash is
// of the file inside, as WeChat Pay's is: DownloadBill writes it
// decompressed once the hash matches.
func TestSimBillGzip(t *testing.T) {
	t.Parallel()
	s, b := seedTwoDays(t)
	plain, err := s.TradeBill("2026-03-14", "")
	require.NoError(t, err)
	bill := askBill(t, b, "v3/bill/tradebill", url.Values{"bill_date": {"2026-03-14"}, "tar_type": {"GZIP"}})

	var raw bytes.Buffer
	_, err = b.Chain(bill.DownloadURL).Get(context.Background(), wechatpay.Options{Sink: &wechatpay.Sink{Writer: &raw, HashType: bill.HashType, HashValue: bill.HashValue}})
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(raw.Bytes(), []byte{0x1f, 0x8b}), "served gzipped")
	zr, err := gzip.NewReader(&raw)
	require.NoError(t, err)
	inside, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, string(plain), string(inside))

	path := filepath.Join(t.TempDir(), "tradebill.csv")
	require.NoError(t, b.DownloadBill(context.Background(), bill, path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(plain), string(data))
}

// TestSimBillTypes: SUCCESS holds the day's payments only, REFUND its
// refunds only, each with its own summary.
func TestSimBillTypes(t *testing.T) {
	t.Parallel()
	s, _ := seedTwoDays(t)
	tests := []struct {
		billType string
		states   []string
		summary  []string
	}{
		{"SUCCESS", []string{"SUCCESS", "SUCCESS"}, []string{"2.0", "13.33", "0.00", "0.00", "0.08000", "13.33", "0.00"}},
		{"REFUND", []string{"REFUND"}, []string{"1.0", "0.00", "5.00", "0.00", "-0.03000", "0.00", "5.00"}},
	}
	for _, tt := range tests {
		t.Run(tt.billType, func(t *testing.T) {
			data, err := s.TradeBill("2026-03-14", tt.billType)
			require.NoError(t, err)
			p := parseBill(t, data)
			var states []string
			for _, row := range p.rows {
				states = append(states, p.column(t, row, "交易状态"))
			}
			assert.Equal(t, tt.states, states)
			assert.Equal(t, tt.summary, p.summary)
		})
	}
}

// TestSimBillRefusals: what v3/bill/tradebill refuses, and how; the
// Simulator's methods refuse the same with the same codes.
func TestSimBillRefusals(t *testing.T) {
	t.Parallel()
	s, b := seedTwoDays(t)
	tests := []struct {
		name   string
		query  url.Values
		status int
		code   string
	}{
		{"no bill_date", url.Values{"bill_type": {"ALL"}}, http.StatusBadRequest, "PARAM_ERROR"},
		{"a malformed bill_date", url.Values{"bill_date": {"2026/03/14"}}, http.StatusBadRequest, "PARAM_ERROR"},
		{"an unknown bill_type", url.Values{"bill_date": {"2026-03-14"}, "bill_type": {"EVERYTHING"}}, http.StatusBadRequest, "PARAM_ERROR"},
		{"an unknown tar_type", url.Values{"bill_date": {"2026-03-14"}, "tar_type": {"ZIP"}}, http.StatusBadRequest, "PARAM_ERROR"},
		{"tomorrow", url.Values{"bill_date": {"2026-03-16"}}, http.StatusBadRequest, "INVALID_REQUEST"},
		{"a day with nothing", url.Values{"bill_date": {"2026-03-13"}}, http.StatusBadRequest, "NO_STATEMENT_EXIST"},
		{"day 2, SUCCESS, gzipped", url.Values{"bill_date": {"2026-03-15"}, "bill_type": {"SUCCESS"}, "tar_type": {"GZIP"}}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.Chain("v3/bill/tradebill").Get(context.Background(), wechatpay.Options{Query: tt.query})
			if tt.code == "" {
				require.NoError(t, err)
				return
			}
			var ae *wechatpay.APIError
			require.True(t, errors.As(err, &ae), "%v", err)
			assert.Equal(t, tt.status, ae.StatusCode)
			assert.Equal(t, tt.code, ae.Code, ae.Message)
			_, err = s.TradeBill(tt.query.Get("bill_date"), tt.query.Get("bill_type"))
			if tt.query.Get("tar_type") != "" {
				return // the methods have no tar_type
			}
			var se *SimError
			require.True(t, errors.As(err, &se), "%v", err)
			assert.Equal(t, tt.code, se.Code)
		})
	}
	_, err := b.Chain("v3/bill/tradebill").Get(context.Background(), wechatpay.Options{Query: url.Values{}})
	var ae *wechatpay.APIError
	require.True(t, errors.As(err, &ae))
	assert.JSONEq(t, `{"field":"bill_date","location":"query","issue":"required"}`, string(ae.Detail))

	_, err = b.Chain("v3/billdownload/file").Get(context.Background(), wechatpay.Options{Query: url.Values{"token": {"not-a-token-of-this-simulation"}}})
	require.True(t, errors.As(err, &ae))
	assert.Equal(t, http.StatusNotFound, ae.StatusCode)
}

// TestSimFundFlowBill: the fund flow bill of the basic account holds the
// day's payments as income and refunds as expense, the balance running on
// from the day before; its summary counts and sums them.
func TestSimFundFlowBill(t *testing.T) {
	t.Parallel()
	s, b := seedTwoDays(t)
	bill := askBill(t, b, "v3/bill/fundflowbill", url.Values{"bill_date": {"2026-03-15"}, "account_type": {"BASIC"}, "tar_type": {"GZIP"}})
	path := filepath.Join(t.TempDir(), "fundflow.csv")
	require.NoError(t, b.DownloadBill(context.Background(), bill, path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	same, err := s.FundFlowBill("2026-03-15")
	require.NoError(t, err)
	assert.Equal(t, string(same), string(data))

	p := parseBill(t, data)
	assert.Equal(t, strings.Split(fundFlowHeader, ","), p.header)
	require.Len(t, p.rows, 2)
	t3, _ := s.Order("bill-T3")
	r2, _ := s.Refund("bill-R2")
	want := []struct{ time, id, name, kind, amount, balance, voucher string }{
		{"2026-03-15 09:00:00", t3.TransactionID, "交易", "收入", "20.00", "28.33", "bill-T3"},
		{"2026-03-15 09:30:00", r2.RefundID, "退款", "支出", "0.99", "27.34", "bill-R2"},
	}
	for i, w := range want {
		row := p.rows[i]
		assert.Equal(t, w.time, p.column(t, row, "记账时间"))
		assert.Equal(t, w.id, p.column(t, row, "微信支付业务单号"))
		assert.Equal(t, w.name, p.column(t, row, "业务名称"))
		assert.Equal(t, w.kind, p.column(t, row, "收支类型"))
		assert.Equal(t, w.amount, p.column(t, row, "收支金额（元）"))
		assert.Equal(t, w.balance, p.column(t, row, "账户结余（元）"), "day 1 left 8.33")
		assert.Equal(t, w.voucher, p.column(t, row, "业务凭证号"))
	}
	assert.Equal(t, strings.Split(fundFlowSummary, ","), p.summaryHeader)
	assert.Equal(t, []string{"2", "1", "20.00", "1", "0.99"}, p.summary)

	day1, err := s.FundFlowBill("2026-03-14")
	require.NoError(t, err)
	p1 := parseBill(t, day1)
	require.Len(t, p1.rows, 3)
	assert.Equal(t, "8.33", p1.column(t, p1.rows[2], "账户结余（元）"))

	_, err = b.Chain("v3/bill/fundflowbill").Get(context.Background(), wechatpay.Options{Query: url.Values{"bill_date": {"2026-03-15"}, "account_type": {"OPERATION"}}})
	var ae *wechatpay.APIError
	require.True(t, errors.As(err, &ae))
	assert.Equal(t, "NO_STATEMENT_EXIST", ae.Code, "only the basic account moves")
}
