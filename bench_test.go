package wechatpay_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

var benchOrder = map[string]any{
	"appid": "wxd678efh567hg6787", "mchid": "1900000001", "description": "Image形象店-深圳腾大-QQ公仔",
	"out_trade_no": "1217752501201407033233368018", "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
	"amount": map[string]any{"total": 100, "currency": "CNY"},
}

// BenchmarkPost compares a signed and verified POST through the Builder with
// the same work done by hand with net/http and crypto/rsa, against the same
// fake server (whose own checking and signing is in both figures).
func BenchmarkPost(b *testing.B) {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	ctx := context.Background()

	b.Run("builder", func(b *testing.B) {
		builder := newBuilder(b, srv, nil)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			resp, err := builder.Chain("v3/pay/transactions/native").Post(ctx, wechatpay.Options{JSON: benchOrder})
			if err != nil || !resp.Get("code_url").Exists() {
				b.Fatal(resp, err)
			}
		}
	})

	b.Run("baseline-net-http", func(b *testing.B) {
		client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		defer client.CloseIdleConnections()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := baselinePost(ctx, client, srv, "/v3/pay/transactions/native", benchOrder); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// baselinePost signs, sends and verifies one request with the standard
// library only: the floor any client pays.
func baselinePost(ctx context.Context, client *http.Client, srv *wechatpaytest.Server, path string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	var nb [16]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return err
	}
	nonce := hex.EncodeToString(nb[:])
	digest := sha256.Sum256([]byte("POST\n" + path + "\n" + ts + "\n" + nonce + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, srv.MerchantKey, crypto.SHA256, digest[:])
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path[1:], bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", fmt.Sprintf(`WECHATPAY2-SHA256-RSA2048 mchid="%s",serial_no="%s",timestamp="%s",nonce_str="%s",signature="%s"`,
		srv.MchID, srv.MerchantSerial, ts, nonce, base64.StdEncoding.EncodeToString(sig)))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "baseline")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Wechatpay-Serial", srv.PublicKeyID)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, rb)
	}
	h := resp.Header
	rs, err := base64.StdEncoding.DecodeString(h.Get("Wechatpay-Signature"))
	if err != nil {
		return err
	}
	rd := sha256.Sum256([]byte(h.Get("Wechatpay-Timestamp") + "\n" + h.Get("Wechatpay-Nonce") + "\n" + string(rb) + "\n"))
	return rsa.VerifyPKCS1v15(&srv.PublicKeyKey.PublicKey, crypto.SHA256, rd[:], rs)
}

// BenchmarkChain measures building a chain, the part every call pays
// before any I/O: segment methods with the naming rule versus a string path.
func BenchmarkChain(b *testing.B) {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	builder := newBuilder(b, srv, nil)
	b.Run("segments", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if builder.V3().Seg("pay").Seg("transactions").Seg("outTradeNo").Value("1217752501201407033233368018").Err() != nil {
				b.Fatal()
			}
		}
	})
	b.Run("string-path", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if builder.Chain("v3/pay/transactions/out-trade-no/{out_trade_no}").Err() != nil {
				b.Fatal()
			}
		}
	})
}
