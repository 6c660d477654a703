package wechatpay_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// cheapKey stands in for the merchant key where the benchmark measures
// everything but the RSA signature: a fixed, well-formed signature.
type cheapKey struct{}

var cheapSignature = bytes.Repeat([]byte{0x5a}, 256)

func (cheapKey) Sign(context.Context, []byte) ([]byte, error) { return cheapSignature, nil }

// cannedServer answers every request with one answer signed once, at
// start, with fake's WeChat Pay public key: no work per request on the
// server's side but HTTP, so that the client's cost shows.
func cannedServer(tb testing.TB, fake *wechatpaytest.Server) *httptest.Server {
	tb.Helper()
	body := []byte(`{"code_url":"weixin://wxpay/bizpayurl/up?pr=NwY5Mz9&groupid=00"}`)
	header := http.Header{"Content-Type": {"application/json"}, "Request-Id": {"08F0A5A3B50610B3A9D2D1D40118A9A12B0000"}}
	signAnswer(tb, fake, header, body)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for k, v := range header {
			w.Header()[k] = v
		}
		_, _ = w.Write(body)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// BenchmarkPostCheapSign is BenchmarkPost with the RSA signature taken
// out (cheapKey) and a server that does no work per request, so that what
// the Builder adds to a request shows: against a bare net/http request
// doing the same work (marshal, sign with the same stand-in, send, read,
// verify the RSA signature of the answer).
func BenchmarkPostCheapSign(b *testing.B) {
	fake := wechatpaytest.NewServer()
	defer fake.Close()
	srv := cannedServer(b, fake)
	ctx := context.Background()

	b.Run("builder", func(b *testing.B) {
		cfg := fake.Config()
		cfg.BaseURL, cfg.PrivateKey, cfg.SigningKey = srv.URL+"/", nil, cheapKey{}
		builder, err := wechatpay.NewBuilder(cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer builder.CloseIdleConnections()
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
		client := &http.Client{Transport: wechatpay.NewTransport()}
		defer client.CloseIdleConnections()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := cheapBaselinePost(ctx, client, srv.URL, fake, benchOrder); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// cheapBaselinePost is baselinePost with cheapKey's signature.
func cheapBaselinePost(ctx context.Context, client *http.Client, base string, fake *wechatpaytest.Server, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig, _ := cheapKey{}.Sign(ctx, nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v3/pay/transactions/native", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", `WECHATPAY2-SHA256-RSA2048 mchid="`+fake.MchID+`",serial_no="`+fake.MerchantSerial+
		`",timestamp="`+ts+`",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",signature="`+base64.StdEncoding.EncodeToString(sig)+`"`)
	req.Header.Set("Wechatpay-Serial", fake.PublicKeyID)
	return baselineExchange(client, req, &fake.PublicKeyKey.PublicKey)
}

// BenchmarkParallelTLS sends signed POSTs from 32 goroutines through one
// Builder to the TLS fake server, and reports requests per second and the
// TLS connections opened (run with -benchtime=1600x to compare with the
// figures in the README):
//   - builder: the Builder's default transport (NewTransport);
//   - builder-stdlib-transport: the same Builder over a clone of
//     http.DefaultTransport, which keeps 2 idle connections per host;
//   - baseline-net-http: bare net/http with NewTransport's settings,
//     signing and verifying by hand.
func BenchmarkParallelTLS(b *testing.B) {
	srv := wechatpaytest.NewTLSServer()
	defer srv.Close()
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	ctx := context.Background()
	run := func(b *testing.B, post func() error) {
		before := srv.Connections()
		b.SetParallelism(max(1, 32/runtimeProcs()))
		b.ReportAllocs()
		start := time.Now()
		b.ResetTimer()
		var failed atomic.Value
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := post(); err != nil {
					failed.Store(err)
				}
			}
		})
		b.StopTimer()
		if err, _ := failed.Load().(error); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		b.ReportMetric(float64(srv.Connections()-before), "conns")
	}
	builderPost := func(builder *wechatpay.Builder) func() error {
		return func() error {
			resp, err := builder.Chain("v3/pay/transactions/native").Post(ctx, wechatpay.Options{JSON: benchOrder})
			if err == nil && !resp.Get("code_url").Exists() {
				err = fmt.Errorf("no code_url in %s", resp.Body())
			}
			return err
		}
	}
	b.Run("builder", func(b *testing.B) {
		builder := newBuilder(b, srv, nil) // Config's HTTPClient is NewTransport trusting srv
		defer builder.CloseIdleConnections()
		run(b, builderPost(builder))
	})
	b.Run("builder-stdlib-transport", func(b *testing.B) {
		// The fake's transport (which dials it and trusts it for every
		// host), with http.DefaultTransport's pool: 2 idle connections per
		// host, no limit, no TLS session cache.
		std := http.DefaultTransport.(*http.Transport)
		t := srv.Config().HTTPClient.Transport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost, t.MaxConnsPerHost = std.MaxIdleConns, std.MaxIdleConnsPerHost, std.MaxConnsPerHost
		t.IdleConnTimeout, t.TLSClientConfig.ClientSessionCache = std.IdleConnTimeout, nil
		builder := newBuilder(b, srv, func(c *wechatpay.Config) { c.HTTPClient = &http.Client{Transport: t} })
		defer builder.CloseIdleConnections()
		run(b, builderPost(builder))
	})
	b.Run("baseline-net-http", func(b *testing.B) {
		t := wechatpay.NewTransport()
		t.TLSClientConfig.RootCAs = roots
		client := &http.Client{Transport: t}
		defer client.CloseIdleConnections()
		run(b, func() error { return baselinePost(ctx, client, srv, "/v3/pay/transactions/native", benchOrder) })
	})
}

// BenchmarkMerchantKey is the cost of one signature with the merchant key
// as NewBuilder leaves it (precomputed) and as it may be given (built from
// its numbers, without precomputed values), which NewBuilder no longer
// pays on every request.
func BenchmarkMerchantKey(b *testing.B) {
	srv := wechatpaytest.NewServer()
	defer srv.Close()
	digest := sha256.Sum256([]byte("POST\n/v3/pay/transactions/native\n1700000000\nNONCE\n{}\n"))
	for name, key := range map[string]*rsa.PrivateKey{"precomputed": srv.MerchantKey, "without-precomputed-values": bareKey(srv.MerchantKey)} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestConcurrentLoadReusesConnections: 2,000 requests (400 under the race
// detector) from 64 goroutines through one Builder to the TLS fake server
// all succeed, every answer verified, over no more connections than the
// goroutines (plus a small margin for connections dialled while another
// was being returned).
func TestConcurrentLoadReusesConnections(t *testing.T) {
	t.Parallel()
	srv := newServer(t, wechatpaytest.WithTLS())
	b := newBuilder(t, srv, nil)
	defer b.CloseIdleConnections()
	const workers = 64
	total := 2000
	if raceEnabled {
		total = 400
	}
	ctx := context.Background()
	var next atomic.Int64
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(total) {
				resp, err := b.Chain("v3/pay/transactions/native").Post(ctx, wechatpay.Options{JSON: benchOrder})
				if err == nil && !resp.Get("code_url").Exists() {
					err = fmt.Errorf("no code_url in %s", resp.Body())
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d requests failed, the first: %v", len(errs), total, errs[0])
	}
	accepted := 0
	for _, r := range srv.Requests() {
		if r.Rejected == "" {
			accepted++
		}
	}
	if accepted != total {
		t.Fatalf("the server accepted %d signed requests, want %d", accepted, total)
	}
	conns := srv.Connections()
	t.Logf("%d requests from %d goroutines over %d connections", total, workers, conns)
	if conns > workers+8 {
		t.Fatalf("%d connections opened for %d requests from %d goroutines, want at most %d", conns, total, workers, workers+8)
	}
}

// runtimeProcs is GOMAXPROCS, for SetParallelism's multiplier.
func runtimeProcs() int { return max(1, runtime.GOMAXPROCS(0)) }
