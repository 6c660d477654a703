package main

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
)

// commandNames are the subcommands, each with its own help.
var commandNames = []string{"certificates", "request", "endpoints", "sandbox", "version"}

// TestHelpGoesToStdout: help asked for, in any of its forms, is printed on
// standard output with exit 0 and nothing on standard error.
func TestHelpGoesToStdout(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"-h"}, {"-help"}, {"--help"}, {"help", "help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runBinary(t, nil, "", args...)
			assert.Equal(t, exitOK, code)
			assert.Equal(t, usage, out)
			assert.Empty(t, errOut)
		})
	}
	for _, name := range commandNames {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, help, errOut := runBinary(t, nil, "", "help", name)
			require.Equal(t, exitOK, code, errOut)
			assert.Empty(t, errOut)
			assert.True(t, strings.HasPrefix(help, "Usage: wechatpay "+name), help)
			for _, ask := range []string{"-h", "-help", "--help"} {
				code, out, errOut := runBinary(t, nil, "", name, ask)
				assert.Equal(t, exitOK, code, ask)
				assert.Equal(t, help, out, ask)
				assert.Empty(t, errOut, ask)
			}
		})
	}
}

// TestUsageMistakes: a usage mistake prints one line naming it, then the
// usage, all on standard error, and exits 2.
func TestUsageMistakes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		command string // whose usage follows; "" for the main one
		line    string
	}{
		{nil, "", "wechatpay: missing COMMAND"},
		{[]string{"nope"}, "", `wechatpay: unknown command "nope"`},
		{[]string{"help", "nope"}, "", `wechatpay help: unknown command "nope"`},
		{[]string{"help", "request", "sandbox"}, "", `wechatpay help: unexpected argument "sandbox"`},
		{[]string{"request"}, "request", "wechatpay request: missing METHOD"},
		{[]string{"request", "GET"}, "request", "wechatpay request: missing PATH"},
		{[]string{"request", "GET", "v3/x", "extra"}, "request", `wechatpay request: unexpected argument "extra"`},
		{[]string{"request", "FETCH", "v3/x"}, "request", `wechatpay request: method "FETCH": expected GET, POST, PUT, PATCH or DELETE`},
		{[]string{"request", "-bogus", "GET", "v3/x"}, "request", "wechatpay request: flag provided but not defined: -bogus"},
		{[]string{"request", "GET", "v3/x", "-path", "oops"}, "request", `wechatpay request: invalid value "oops" for flag -path: expected KEY=VALUE`},
		{[]string{"request", "GET", "v3/x", "-query", "=v"}, "request", `wechatpay request: invalid value "=v" for flag -query: expected KEY=VALUE`},
		{[]string{"request", "GET", "v3/x", "-data"}, "request", "wechatpay request: flag needs an argument: -data"},
		{[]string{"certificates", "now"}, "certificates", `wechatpay certificates: unexpected argument "now"`},
		{[]string{"endpoints", "-bogus"}, "endpoints", "wechatpay endpoints: flag provided but not defined: -bogus"},
		{[]string{"sandbox", "extra"}, "sandbox", `wechatpay sandbox: unexpected argument "extra"`},
		{[]string{"sandbox", "-notify-every", "soon"}, "sandbox", `wechatpay sandbox: invalid value "soon" for flag -notify-every: parse error`},
		{[]string{"version", "now"}, "version", `wechatpay version: unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			want := usage
			if tt.command != "" {
				code, help, errOut := runBinary(t, nil, "", "help", tt.command)
				require.Equal(t, exitOK, code, errOut)
				want = help
			}
			code, out, errOut := runBinary(t, nil, "", tt.args...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, out)
			assert.Equal(t, tt.line+"\n\n"+want, errOut)
		})
	}
}

// TestVersion: the library's version, the Go version and the platform,
// as go version prints them.
func TestVersion(t *testing.T) {
	t.Parallel()
	want := fmt.Sprintf("wechatpay %s %s %s/%s\n", wechatpay.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	for _, args := range [][]string{{"version"}, {"-version"}, {"--version"}} {
		code, out, errOut := runBinary(t, nil, "", args...)
		assert.Equal(t, exitOK, code, args)
		assert.Equal(t, want, out, args)
		assert.Empty(t, errOut, args)
	}
	assert.Contains(t, usage, "\n  wechatpay version  ")
}
