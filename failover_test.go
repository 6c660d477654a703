package wechatpay_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// failoverBuilder returns a Builder for srv's credentials whose requests go
// to primary and fail over to backup (hosts "127.0.0.1:port").
func failoverBuilder(t *testing.T, srv *wechatpaytest.Server, f wechatpay.Failover, edit func(*wechatpay.Config)) *wechatpay.Builder {
	t.Helper()
	return newBuilder(t, srv, func(c *wechatpay.Config) {
		c.BaseURL = "http://" + f.Primary + basePath
		c.Failover = &f
		if edit != nil {
			edit(c)
		}
	})
}

// nonceOf returns the nonce_str of an APIv3 Authorization header.
func nonceOf(t *testing.T, auth string) string {
	t.Helper()
	_, rest, ok := strings.Cut(auth, `nonce_str="`)
	require.True(t, ok, "no nonce_str in %q", auth)
	nonce, _, ok := strings.Cut(rest, `"`)
	require.True(t, ok)
	return nonce
}

// TestFailoverBothDownKeepsBothCauses: the error names what went wrong on
// each host, for a POST (whose body is read again for the backup) too.
func TestFailoverBothDownKeepsBothCauses(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	f := wechatpay.Failover{Primary: refusedAddr(t), Backup: refusedAddr(t)}
	b := failoverBuilder(t, srv, f, nil)
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			var err error
			if method == "GET" {
				_, err = b.Chain("v3/x").Get(context.Background())
			} else {
				_, err = b.Chain("v3/x").Post(context.Background(), wechatpay.Options{JSON: map[string]int{"n": 1}})
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "primary host "+f.Primary+" failed (dial tcp "+f.Primary+": connect: connection refused)")
			assert.Contains(t, err.Error(), "and so did backup host "+f.Backup+": dial tcp "+f.Backup+": connect: connection refused")
			var fe *wechatpay.FailoverError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, f.Primary, fe.Primary)
			assert.Equal(t, f.Backup, fe.Backup)
			assert.ErrorIs(t, fe.PrimaryErr, syscall.ECONNREFUSED)
			assert.ErrorIs(t, fe.BackupErr, syscall.ECONNREFUSED)
		})
	}
}

// TestFailoverPinsOnlyAfterTheBackupAnswered: a moment with both hosts down
// must not keep requests away from a recovered primary.
func TestFailoverPinsOnlyAfterTheBackupAnswered(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	f := wechatpay.Failover{Primary: refusedAddr(t), Backup: refusedAddr(t)}
	b := failoverBuilder(t, srv, f, nil)
	_, err := b.Chain("v3/x").Get(context.Background())
	require.Error(t, err, "both hosts down")

	primary := newServer(t, wechatpaytest.WithAddr(f.Primary)) // the primary is back
	primary.Handle("/", echo)
	_, err = b.Chain("v3/x").Get(context.Background())
	require.NoError(t, err, "the next request goes to the primary")
	assert.Len(t, primary.Requests(), 1)
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestFailoverStay: once the backup answered, requests stay on it for Stay,
// then go to the primary again (on a clock the test moves).
func TestFailoverStay(t *testing.T) {
	t.Parallel()
	backup := newServer(t)
	backup.Handle("/", echo)
	f := wechatpay.Failover{Primary: refusedAddr(t), Backup: hostOf(t, backup.URL), Stay: time.Minute}
	b := failoverBuilder(t, backup, f, nil)
	clock := &fakeClock{now: time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)}
	wechatpay.SetFailoverClock(b, clock.Now)
	ctx := context.Background()

	_, err := b.Chain("v3/x").Get(ctx)
	require.NoError(t, err)
	assert.Len(t, backup.Requests(), 1)

	primary := newServer(t, wechatpaytest.WithAddr(f.Primary)) // the primary is back
	primary.Handle("/", echo)
	clock.Add(time.Minute - time.Second)
	_, err = b.Chain("v3/x").Get(ctx)
	require.NoError(t, err)
	assert.Len(t, backup.Requests(), 2, "within Stay: still the backup")
	assert.Empty(t, primary.Requests())

	clock.Add(time.Second)
	_, err = b.Chain("v3/x").Get(ctx)
	require.NoError(t, err)
	assert.Len(t, primary.Requests(), 1, "Stay has passed: the primary again")
	assert.Len(t, backup.Requests(), 2)
}

// TestFailoverSignsAnew: the backup gets a request signed for it, with a
// nonce of its own, not the primary attempt's Authorization.
func TestFailoverSignsAnew(t *testing.T) {
	t.Parallel()
	primary := newServer(t)
	backup := newServer(t)
	backup.Handle("/", echo)
	f := wechatpay.Failover{Primary: hostOf(t, primary.URL), Backup: hostOf(t, backup.URL), AllowResend: true}
	b := failoverBuilder(t, primary, f, nil)

	primary.SetFaultN(wechatpaytest.DropConnection, 1)
	resp, err := b.Chain("v3/x").Post(context.Background(), wechatpay.Options{JSON: map[string]int{"n": 1}})
	require.NoError(t, err)
	assert.Equal(t, `{"n":1}`, resp.Get("body").String(), "the body is sent again")

	first, ok := primary.LastRequest()
	require.True(t, ok)
	assert.Equal(t, "dropped (DropConnection)", first.Rejected, "the primary attempt was validly signed")
	second := lastAccepted(t, backup)
	assert.Equal(t, `{"n":1}`, string(second.Body))
	assert.NotEqual(t, nonceOf(t, first.Header.Get("Authorization")), nonceOf(t, second.Header.Get("Authorization")))
}

// blackHole returns a loopback address whose connections never complete:
// a listener with a full accept queue drops further SYNs, as a firewall
// that drops packets would.
func blackHole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	sc, err := l.(*net.TCPListener).SyscallConn()
	require.NoError(t, err)
	var lerr error
	require.NoError(t, sc.Control(func(fd uintptr) { lerr = syscall.Listen(int(fd), 0) }))
	require.NoError(t, lerr)
	// Fill the queue: connect until a connection no longer completes.
	for i := 0; ; i++ {
		require.Less(t, i, 64, "the accept queue does not fill up")
		c, err := net.DialTimeout("tcp", l.Addr().String(), 200*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	return l.Addr().String()
}

// TestFailoverFromABlackHoledPrimary: connecting to a primary that never
// answers gives up early enough for the backup to answer within the
// request's deadline.
func TestFailoverFromABlackHoledPrimary(t *testing.T) {
	// Not parallel: the backup has half of a 2 s deadline to answer in, which
	// a loaded machine should not eat.
	backup := newServer(t)
	backup.Handle("/", echo)
	f := wechatpay.Failover{Primary: blackHole(t), Backup: hostOf(t, backup.URL)}
	b := failoverBuilder(t, backup, f, func(c *wechatpay.Config) { c.Timeout = 2 * time.Second })
	resp, err := b.Chain("v3/x").Post(context.Background(), wechatpay.Options{JSON: map[string]int{"n": 1}})
	require.NoError(t, err)
	assert.Equal(t, `{"n":1}`, resp.Get("body").String())
	assert.Len(t, backup.Requests(), 1, "the backup answered")
}

// TestCloseIdleConnections: Builder.CloseIdleConnections closes the idle
// connections of every client the Builder owns, the mutual-TLS one
// included, with Failover on or off: the next plain request and the next
// secapi request each open a new connection.
func TestCloseIdleConnections(t *testing.T) {
	t.Parallel()
	for _, failover := range []bool{false, true} {
		t.Run(map[bool]string{false: "without Failover", true: "with Failover"}[failover], func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, wechatpaytest.WithTLS())
			srv.Handle("GET /v3/x", echo)
			b := newBuilder(t, srv, func(c *wechatpay.Config) {
				if failover {
					c.Failover = &wechatpay.Failover{Primary: hostOf(t, srv.URL), Backup: refusedAddr(t)}
				}
			})
			defer b.CloseIdleConnections()
			refund := wechatpay.Options{XML: map[string]string{"appid": "wx1", "mch_id": srv.MchID, "out_trade_no": "T1",
				"out_refund_no": "R1", "total_fee": "100", "refund_fee": "100"}}
			ctx := context.Background()
			send := func() {
				t.Helper()
				_, err := b.Chain("v2/secapi/pay/refund").Post(ctx, refund)
				require.NoError(t, err)
				require.NotNil(t, lastV2(t, srv).ClientCertificate, "mutual TLS")
				_, err = b.Chain("v3/x").Get(ctx)
				require.NoError(t, err)
				require.Nil(t, lastAccepted(t, srv).ClientCertificate, "plain TLS")
			}
			send()
			require.Equal(t, 2, srv.Connections(), "one connection per client")
			send()
			require.Equal(t, 2, srv.Connections(), "both reused")
			b.CloseIdleConnections()
			send()
			assert.Equal(t, 4, srv.Connections(), "both idle connections were closed: two new ones")
		})
	}
	t.Run("a nil Builder", func(t *testing.T) {
		var b *wechatpay.Builder
		assert.NotPanics(t, b.CloseIdleConnections)
	})
}
