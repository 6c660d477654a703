package wechatpay

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
)

// TestFailSendingNamesFailover: an unreachable primary WeChat Pay host,
// with Failover off, says that Failover would try the backup; with it on,
// or for another host, it does not.
func TestFailSendingNamesFailover(t *testing.T) {
	t.Parallel()
	refused := &url.Error{Op: "Get", URL: "https://api.mch.weixin.qq.com/v3/x?token=QUERYTOKEN4c2a9e", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}}
	for _, tc := range []struct {
		name     string
		failover *failover
		target   string
		want     bool
	}{
		{"primary, no failover", nil, "https://api.mch.weixin.qq.com/v3/x", true},
		{"primary, failover on", newFailover(Failover{}), "https://api.mch.weixin.qq.com/v3/x", false},
		{"another host", nil, "https://apihk.mch.weixin.qq.com/v3/x", false},
	} {
		b := &Builder{failover: tc.failover}
		err := b.failSending(&request{method: "GET", path: "v3/x", url: tc.target}, refused)
		const want = "Config.Failover would send requests to the backup host api2.mch.weixin.qq.com while api.mch.weixin.qq.com cannot be reached"
		if got := strings.Contains(err.Error(), want); got != tc.want {
			t.Errorf("%s: %q mentions Failover: %v, want %v", tc.name, err, got, tc.want)
		}
		if strings.Contains(err.Error(), "QUERYTOKEN4c2a9e") {
			t.Errorf("%s: the query reached the error: %q", tc.name, err)
		}
		if !errors.Is(err, refused.Err) {
			t.Errorf("%s: %v does not wrap the cause", tc.name, err)
		}
	}
}

// TestSameHost: Failover knows the primary however Config.BaseURL spells it.
func TestSameHost(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]bool{
		"https://api.mch.weixin.qq.com/v3/x":          true,
		"https://API.MCH.WEIXIN.QQ.COM/v3/x":          true,
		"https://api.mch.weixin.qq.com:443/v3/x":      true,
		"https://api.mch.weixin.qq.com./v3/x":         true,
		"http://api.mch.weixin.qq.com:443/v3/x":       false,
		"https://api.mch.weixin.qq.com:8443/v3/x":     false,
		"http://api.mch.weixin.qq.com/v3/x":           true,
		"https://api2.mch.weixin.qq.com/v3/x":         false,
		"https://api.mch.weixin.qq.com.evil.example/": false,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := sameHost(u, failoverPrimary); got != want {
			t.Errorf("sameHost(%s) = %v, want %v", raw, got, want)
		}
	}
	u, _ := url.Parse("http://127.0.0.1:8080/v3/x")
	if !sameHost(u, "127.0.0.1:8080") || sameHost(u, "127.0.0.1:8081") {
		t.Error("a host:port primary")
	}
}
