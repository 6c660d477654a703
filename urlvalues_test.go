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
	srv := wechatpaytest.NewServer()
	defer srv.Close()
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
		}, false, "v3/missing/file"},
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
