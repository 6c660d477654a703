package wechatpay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// Sentinels that cannot occur by chance in a log or an error.
const (
	tokenSentinel = "TOKENSENTINEL7f3a9c2e41"
	valueSentinel = "PATHVALUESENTINEL5d1e8b"
	querySentinel = "QUERYSENTINEL9a4c0f7e3"
)

// jsonLogger logs JSON records without their time, which could hold
// anything.
func jsonLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
}

// TestLogsAndErrorsCarryNoURLValues: a log record holds the path template,
// never a path value or a query; an error never holds a query string (a
// download_url's token).
func TestLogsAndErrorsCarryNoURLValues(t *testing.T) {
	t.Parallel()
	// At the root, not newServer's base path: a full URL's path is taken
	// from the host on, so a base path would be logged as part of it.
	srv := wechatpaytest.NewServer()
	t.Cleanup(srv.Close)
	srv.Handle("/", echo)
	srv.Handle("GET /v3/missing/file", func(w http.ResponseWriter, r *http.Request) {
		wechatpaytest.Error(w, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "no such file")
	})
	down := "http://" + refusedAddr(t) + "/"
	var logs bytes.Buffer
	b := newBuilder(t, srv, func(c *wechatpay.Config) { c.Logger = jsonLogger(&logs) })
	ctx := context.Background()
	sink := wechatpay.Options{Sink: &wechatpay.Sink{Writer: io.Discard}}

	tests := []struct {
		name    string
		send    func() error
		ok      bool
		logPath string
	}{
		{"a download_url", func() error {
			_, err := b.Chain(srv.URL+"v3/billdownload/file?token="+tokenSentinel).Get(ctx, sink)
			return err
		}, true, "v3/billdownload/file"},
		{"a download_url whose host is down", func() error {
			_, err := b.Chain(down+"v3/billdownload/file?token="+tokenSentinel).Get(ctx, sink)
			return err
		}, false, "v3/billdownload/file"},
		{"a full URL with a query, host down", func() error {
			_, err := b.Chain(down + "v3/billdownload/file?token=" + tokenSentinel).Get(ctx)
			return err
		}, false, "v3/billdownload/file"},
		{"a full URL with a query, answered 404", func() error {
			_, err := b.Chain(srv.URL+"v3/missing/file?token="+tokenSentinel).Get(ctx, sink)
			var apiErr *wechatpay.APIError
			if assert.ErrorAs(t, err, &apiErr) {
				assert.Equal(t, "v3/missing/file", apiErr.Path)
			}
			return err
		}, false, "v3/missing/..."}, // not documented: the segments after two may be values
		{"path values and a query, host down", func() error {
			_, err := b.Chain("v3/x/{id}").Get(ctx, wechatpay.Options{BaseURL: down,
				Path: map[string]string{"id": valueSentinel}, Query: url.Values{"q": {querySentinel}}})
			return err
		}, false, "v3/x/{id}"},
		{"a Value segment of a documented path", func() error {
			_, err := b.V3().Pay().Transactions().OutTradeNo().Value(valueSentinel).Get(ctx)
			return err
		}, true, "v3/pay/transactions/out-trade-no/{out_trade_no}"},
		{"a Value segment, host down", func() error {
			_, err := b.Chain("v3/undocumented").Value(valueSentinel).Get(ctx, wechatpay.Options{BaseURL: down})
			return err
		}, false, "v3/undocumented/{value}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			err := tt.send()
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.NotContains(t, err.Error(), tokenSentinel)
				assert.NotContains(t, err.Error(), querySentinel)
			}
			var rec map[string]any
			require.NoError(t, json.Unmarshal(logs.Bytes(), &rec), logs.String())
			assert.Equal(t, tt.logPath, rec["path"])
			for _, s := range []string{tokenSentinel, valueSentinel, querySentinel} {
				assert.NotContains(t, logs.String(), s)
			}
		})
	}

	t.Run("a malformed full URL", func(t *testing.T) {
		err := b.Chain("ftp://example.com/v3/billdownload/file?token=" + tokenSentinel).Err()
		require.Error(t, err)
		assert.NotContains(t, err.Error(), tokenSentinel)
		assert.True(t, strings.HasPrefix(err.Error(), `wechatpay: Chain("ftp://example.com/v3/billdownload/file?..."): scheme "ftp"`), err.Error())
	})
	t.Run("the query still goes to the server", func(t *testing.T) {
		_, err := b.Chain(srv.URL+"v3/billdownload/file?token="+tokenSentinel).Get(ctx, wechatpay.Options{
			Sink: &wechatpay.Sink{Writer: io.Discard}, Query: url.Values{"tar_type": {"GZIP"}}})
		require.NoError(t, err)
		assert.Equal(t, "/v3/billdownload/file?token="+tokenSentinel+"&tar_type=GZIP", lastAccepted(t, srv).RequestURI)
	})
}

// TestLogPathIsATemplateForEveryChainForm: whichever way a chain was built,
// its log record shows the catalog's template when the catalog knows the
// filled path; else the chain's own template (placeholders as written,
// Value segments as {value}); else, for a literal path or a full URL the
// catalog does not know, its first two segments and "/...". A rejected
// Options.Path value stays out of the record's error too, while the error
// returned to the caller still quotes it.
func TestLogPathIsATemplateForEveryChainForm(t *testing.T) {
	t.Parallel()
	// At the root, not newServer's base path: a full URL's path is taken
	// from the host on, so a base path would be logged as part of it.
	srv := wechatpaytest.NewServer()
	t.Cleanup(srv.Close)

	srv.Handle("/", echo)
	down := "http://" + refusedAddr(t) + "/"
	var logs bytes.Buffer
	b := newBuilder(t, srv, func(c *wechatpay.Config) { c.Logger = jsonLogger(&logs) })
	ctx := context.Background()
	const documented = "v3/pay/transactions/out-trade-no/{out_trade_no}"
	const segSentinel = "segvaluesentinel4b7e1d9a" // lower case: Seg keeps it as it is
	mchid := wechatpay.Options{Query: url.Values{"mchid": {srv.MchID}}}
	byPath := func(values map[string]string) wechatpay.Options {
		return wechatpay.Options{Path: values, Query: mchid.Query}
	}
	// Lookup takes a filled path too (ok is false: the catalog lists
	// templates), and sends it like Chain.
	lookup := func(path string) *wechatpay.Chain {
		c, _ := b.Lookup(path)
		return c
	}

	tests := []struct {
		name    string
		chain   *wechatpay.Chain
		opts    wechatpay.Options
		ok      bool
		logPath string
	}{
		{"Seg placeholder, documented", b.V3().Pay().Transactions().OutTradeNo().Seg("_out_trade_no_"),
			byPath(map[string]string{"out_trade_no": valueSentinel}), true, documented},
		{"Seg placeholder, undocumented", b.Chain("v3/undocumented").Seg("_id_"),
			byPath(map[string]string{"id": valueSentinel}), true, "v3/undocumented/{id}"},
		{"placeholders whose filled path is documented", b.Chain("v3/pay/transactions/{kind}/{no}"),
			byPath(map[string]string{"kind": "out-trade-no", "no": valueSentinel}), true, documented},
		{"Value, documented", b.V3().Pay().Transactions().OutTradeNo().Value(valueSentinel), mchid, true, documented},
		{"Value, undocumented", b.Chain("v3/undocumented").Value(valueSentinel).Seg("detail"), mchid, true, "v3/undocumented/{value}/detail"},
		{"Seg literal, documented", b.V3().Pay().Transactions().OutTradeNo().Seg(segSentinel), mchid, true, documented},
		{"Chain literal path, documented", b.Chain("v3/pay/transactions/out-trade-no/" + valueSentinel), mchid, true, documented},
		{"Chain literal path, undocumented", b.Chain("v3/undocumented/" + valueSentinel + "/detail"), mchid, true, "v3/undocumented/..."},
		{"Chain literal path, undocumented, two segments", b.Chain("v3/undocumented"), mchid, true, "v3/undocumented"},
		{"Seg literal, undocumented", b.Chain("v3/undocumented").Seg(segSentinel), mchid, true, "v3/undocumented/..."},
		{"Lookup", lookup("v3/pay/transactions/out-trade-no/" + valueSentinel), mchid, true, documented},
		{"Lookup with the template", lookup(documented), byPath(map[string]string{"out_trade_no": valueSentinel}), true, documented},
		{"full URL, documented", b.Chain(srv.URL + "v3/pay/transactions/out-trade-no/" + valueSentinel + "?mchid=" + srv.MchID),
			wechatpay.Options{}, true, documented},
		{"full URL, undocumented", b.Chain(srv.URL + "v3/undocumented/" + valueSentinel + "/file?token=" + tokenSentinel),
			wechatpay.Options{}, true, "v3/undocumented/..."},
		{"full URL, undocumented, host down", b.Chain(down + "v3/undocumented/" + valueSentinel + "/file?token=" + tokenSentinel),
			wechatpay.Options{Sink: &wechatpay.Sink{Writer: io.Discard}}, false, "v3/undocumented/..."},
		{"a rejected Options.Path value", b.Chain(documented),
			byPath(map[string]string{"out_trade_no": valueSentinel + "/.."}), false, documented},
		{"an unknown Options.Path key, a query in the template", b.Chain("v3/pay/transactions/id/{transaction_id}?mchid=" + querySentinel),
			byPath(map[string]string{"transaction_id": "4200000001", "zz": "x"}), false, "v3/pay/transactions/id/{transaction_id}"},
		{"an APIv2 GET whose Query and XML disagree", b.Chain("v2/pay/orderquery"),
			wechatpay.Options{Query: url.Values{"out_trade_no": {valueSentinel}}, XML: map[string]string{"out_trade_no": querySentinel}}, false, "v2/pay/orderquery"},
		{"a rejected Options.Path value completing a segment", b.Chain("v3/undocumented/{a}/.{id}"),
			byPath(map[string]string{"a": valueSentinel, "id": ""}), false, "v3/undocumented/{a}/.{id}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.chain.Err())
			logs.Reset()
			_, err := tt.chain.Get(ctx, tt.opts)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
			var rec map[string]any
			require.NoError(t, json.Unmarshal(logs.Bytes(), &rec), logs.String())
			assert.Equal(t, tt.logPath, rec["path"])
			for _, s := range []string{valueSentinel, segSentinel, tokenSentinel, querySentinel} {
				assert.NotContains(t, logs.String(), s)
			}
		})
	}

	t.Run("the error returned keeps the rejected value; the log's error leaves it out", func(t *testing.T) {
		logs.Reset()
		_, err := b.Chain(documented).Get(ctx, byPath(map[string]string{"out_trade_no": valueSentinel + "/.."}))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `Options.Path["out_trade_no"] is "`+valueSentinel+`/.."`)
		var rec map[string]any
		require.NoError(t, json.Unmarshal(logs.Bytes(), &rec), logs.String())
		assert.Equal(t, `placeholder {out_trade_no}: Options.Path["out_trade_no"] holds a ".." part once percent-decoded: `+
			`"." and ".." name the current and the parent path: sent, they would reach another endpoint; expected a segment name, an id or a {placeholder}`,
			rec["error"])
	})
}
