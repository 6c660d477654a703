// Command wechatpay calls WeChat Pay from the shell: download platform
// certificates, send any request, search the endpoint catalog, or run a
// local sandbox of WeChat Pay for developers in any language.
//
//	go install github.com/wechatpay-chain/wechatpay/cmd/wechatpay@latest
//	wechatpay help
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes scripts can rely on.
const (
	exitOK      = 0 // done
	exitFailed  = 1 // the operation failed: an API error, a verification failure, the network
	exitUsage   = 2 // the command line or the credentials are wrong; checked before anything is sent
	exitNothing = 3 // endpoints: nothing matched
)

const usage = `wechatpay: call WeChat Pay from the shell.

Usage:
  wechatpay certificates [flags]          download, decrypt and verify the platform certificates,
                                          write wechatpay_<serial>.pem files
  wechatpay request [flags] METHOD PATH   send a signed request, print the verified answer
  wechatpay endpoints [WORD...]           search the catalog of documented endpoints
  wechatpay sandbox [flags]               run a fake WeChat Pay on loopback for local development
  wechatpay help [COMMAND]

Credentials come from flags or the environment:
  -mchid          WECHATPAY_MCHID          merchant id
  -serial         WECHATPAY_SERIAL         merchant API certificate serial (or -cert)
  -cert           WECHATPAY_CERT           merchant API certificate apiclient_cert.pem
  -private-key    WECHATPAY_PRIVATE_KEY    merchant API private key apiclient_key.pem (path or PEM)
  -public-key     WECHATPAY_PUBLIC_KEY     WeChat Pay public key pub_key.pem
  -public-key-id  WECHATPAY_PUBLIC_KEY_ID  its id, PUB_KEY_ID_...
  -platform-cert  WECHATPAY_PLATFORM_CERT  platform certificate files, comma-separated
  -apiv3-key      WECHATPAY_APIV3_KEY      APIv3 key (certificates; request downloads certificates
                                           when no public key or platform certificate is given)
  -secret         WECHATPAY_SECRET         APIv2 key (v2/ paths)
  -base-url       WECHATPAY_BASE_URL       host, e.g. https://apihk.mch.weixin.qq.com/

Exit status: 0 done, 1 the operation failed, 2 bad usage or credentials, 3 no endpoint matched.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// env is the process environment, passed in so that tests can set it.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// run is the whole command, free of globals so that tests call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	commands := map[string]func(context.Context, env, []string) int{
		"certificates": certificatesCommand,
		"request":      requestCommand,
		"endpoints":    endpointsCommand,
		"sandbox":      sandboxCommand,
	}
	switch name := args[0]; name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && commands[args[1]] != nil {
			return commands[args[1]](ctx, e, []string{"-h"})
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		cmd := commands[name]
		if cmd == nil {
			fmt.Fprintf(stderr, "wechatpay: unknown command %q\n\n%s", name, usage)
			return exitUsage
		}
		return cmd(ctx, e, args[1:])
	}
}

// flagSet returns a FlagSet that reports to e.stderr and describes itself.
func flagSet(e env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: wechatpay %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, flags before, between or after the other arguments
// (which it leaves in positional), and returns the exit code to stop with,
// or -1 to go on.
func parse(fs *flag.FlagSet, args []string, positional *[]string) int {
	for {
		switch err := fs.Parse(args); {
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case err != nil:
			return exitUsage
		}
		if fs.NArg() == 0 {
			return -1
		}
		*positional = append(*positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// listFlag collects repeated KEY=VALUE flags.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// pairs splits KEY=VALUE items.
func pairs(items []string, flagName string) (map[string]string, error) {
	out := map[string]string{}
	for _, it := range items {
		k, v, ok := strings.Cut(it, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("-%s %q: expected KEY=VALUE", flagName, it)
		}
		out[k] = v
	}
	return out, nil
}
