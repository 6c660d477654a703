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
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
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
	req.Header.Set("Wechatpay-Serial", srv.PublicKeyID)
	return baselineExchange(client, req, &srv.PublicKeyKey.PublicKey)
}

// baselineExchange sends req with the headers every WeChat Pay request
// carries, reads the answer and verifies its signature with key, by hand.
func baselineExchange(client *http.Client, req *http.Request, key *rsa.PublicKey) error {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "baseline")
	req.Header.Set("Content-Type", "application/json")
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
	return rsa.VerifyPKCS1v15(key, crypto.SHA256, rd[:], rs)
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

// BenchmarkDownload streams a large bill file (200 MB; set
// WECHATPAY_BENCH_MB to change it) through Options.Sink with its SHA-256
// checked, next to the same download read into memory, and reports the
// peak heap in use during each: the stream's stays flat.
func BenchmarkDownload(b *testing.B) {
	size := 200
	if v, err := strconv.Atoi(os.Getenv("WECHATPAY_BENCH_MB")); err == nil && v > 0 {
		size = v
	}
	total := size << 20
	block := bytes.Repeat([]byte("交易时间,公众账号ID,商户号,总金额\n"), 2048)[:64<<10]
	digest := sha256.New()
	for n := 0; n < total; n += len(block) {
		digest.Write(block[:min(len(block), total-n)])
	}
	sum := hex.EncodeToString(digest.Sum(nil))

	srv := wechatpaytest.NewServer()
	defer srv.Close()
	srv.Handle("GET /v3/billdownload/file", func(w http.ResponseWriter, r *http.Request) {
		for n := 0; n < total; n += len(block) {
			if _, err := w.Write(block[:min(len(block), total-n)]); err != nil {
				return
			}
		}
	})
	builder := newBuilder(b, srv, func(c *wechatpay.Config) { c.Timeout = -1 })
	ctx := context.Background()

	measure := func(b *testing.B, download func() error) {
		b.ReportAllocs()
		b.SetBytes(int64(total))
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		peak := peakHeap(func() {
			for i := 0; i < b.N; i++ {
				if err := download(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.ReportMetric(float64(peak-base.HeapInuse)/(1<<20), "peak-heap-MB")
	}
	b.Run("sink", func(b *testing.B) {
		measure(b, func() error {
			_, err := builder.Chain("v3/billdownload/file").Get(ctx, wechatpay.Options{
				Sink: &wechatpay.Sink{Writer: io.Discard, HashType: "SHA256", HashValue: sum}})
			return err
		})
	})
	b.Run("baseline-in-memory", func(b *testing.B) {
		measure(b, func() error {
			resp, err := builder.Chain("v3/billdownload/file").Get(ctx)
			if err == nil && len(resp.Body()) != total {
				err = fmt.Errorf("got %d bytes", len(resp.Body()))
			}
			return err
		})
	})
}

// peakHeap runs fn and returns the most heap in use seen meanwhile.
func peakHeap(fn func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	fn()
	close(done)
	<-sampled
	return peak.Load()
}
