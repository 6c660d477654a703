package notify

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay/apiv2"
	"github.com/wechatpay-chain/wechatpay/internal/memtest"
	"github.com/wechatpay-chain/wechatpay/middleware"
)

// TestParseV2Limits: anyone can POST to a notify_url, so an APIv2
// notification that is too large or not flat is refused before it costs
// anything (a 7 MB deeply nested one used to cost about 521 MiB).
func TestParseV2Limits(t *testing.T) {
	// Not parallel: memtest counts what every goroutine allocates.
	signed := map[string]string{"return_code": "SUCCESS", "result_code": "SUCCESS", "out_trade_no": "T1"}
	signed["sign"] = apiv2.Sign(signed, secret, apiv2.MD5)
	flat, err := apiv2.Encode(signed)
	require.NoError(t, err)
	_, err = ParseV2(flat, secret)
	require.NoError(t, err)

	deep := []byte("<xml>" + strings.Repeat("<a>", 1<<20) + strings.Repeat("</a>", 1<<20) + "</xml>")
	tests := []struct {
		name string
		body []byte
		err  string
	}{
		{"7 MB deeply nested", deep, "the body is 7340043 bytes, more than the 1048576 an APIv2 message may have"},
		{"deeply nested under the size cap", deep[:len("<xml>")+300<<10], "<a> is nested 3 levels deep; APIv2 messages are at most 2"},
		{"a field holding an element", []byte("<xml><out_trade_no><x>T1</x></out_trade_no></xml>"), "<x> is nested 3 levels deep"},
		{"over MaxBodySize", []byte("<xml><a>" + strings.Repeat("x", MaxBodySize) + "</a></xml>"), "more than the 1048576 an APIv2 message may have"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, parse := range map[string]func([]byte, string) (map[string]string, error){"ParseV2": ParseV2, "ParseRefundV2": ParseRefundV2} {
				var err error
				n := memtest.Allocated(func() { _, err = parse(tt.body, secret) })
				assert.ErrorContains(t, err, tt.err, name)
				assert.Less(t, n, uint64(64<<10), "%s: bytes allocated refusing it", name)
			}
		})
	}
	t.Run("req_info plaintext is flat too", func(t *testing.T) {
		sum := md5.Sum([]byte(secret))
		inner := "<root><out_refund_no><x>R1</x></out_refund_no></root>"
		body, err := apiv2.Encode(map[string]string{"return_code": "SUCCESS", "req_info": encryptECB(t, []byte(inner), []byte(hex.EncodeToString(sum[:])))})
		require.NoError(t, err)
		_, err = ParseRefundV2(body, secret)
		assert.ErrorContains(t, err, "notify: the decrypted req_info: apiv2: not an APIv2 XML document: <x> is nested 3 levels deep; APIv2 messages are at most 2")
	})
}

// TestHandlerBodyLimit: the APIv3 handler reads at most MaxBodySize and
// says so.
func TestHandlerBodyLimit(t *testing.T) {
	t.Parallel()
	p := &Parser{Keys: middleware.StaticKeys{}, APIv3Key: strings.Repeat("k", 32)}
	called := false
	h := p.Handler(func(context.Context, *Notification) error { called = true; return nil })
	h.Logger = slog.New(slog.DiscardHandler)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader(strings.Repeat("x", MaxBodySize+1))))
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	var reply map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &reply))
	assert.Equal(t, map[string]string{"code": "FAIL", "message": "notification too large"}, reply)
	assert.False(t, called)
}
