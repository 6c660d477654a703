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
	"runtime"
	"strings"
	"syscall"

	"github.com/wechatpay-chain/wechatpay"
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
  wechatpay endpoints [flags] [WORD...]   search the catalog of documented endpoints
  wechatpay sandbox [flags]               run a fake WeChat Pay on loopback for local development
  wechatpay version                       print the library, Go and platform versions
  wechatpay help [COMMAND]                print this, or a command's flags

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

// commands are the subcommands by name.
var commands = map[string]func(context.Context, env, []string) int{
	"certificates": certificatesCommand,
	"request":      requestCommand,
	"endpoints":    endpointsCommand,
	"sandbox":      sandboxCommand,
	"version":      versionCommand,
}

// run is the whole command, free of globals so that tests call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	// A usage mistake names itself in one line, then shows the usage.
	mistake := func(format string, a ...any) int {
		fmt.Fprintf(stderr, format+"\n\n%s", append(a, usage)...)
		return exitUsage
	}
	if len(args) == 0 {
		return mistake("wechatpay: missing COMMAND")
	}
	switch name := args[0]; name {
	case "help", "-h", "-help", "--help":
		switch {
		case len(args) == 1, args[1] == "help" && len(args) == 2:
			fmt.Fprint(stdout, usage)
			return exitOK
		case commands[args[1]] == nil:
			return mistake("wechatpay help: unknown command %q", args[1])
		case len(args) > 2:
			return mistake("wechatpay help: unexpected argument %q", args[2])
		}
		return commands[args[1]](ctx, e, []string{"-h"})
	case "-version", "--version":
		return versionCommand(ctx, e, args[1:])
	default:
		cmd := commands[name]
		if cmd == nil {
			return mistake("wechatpay: unknown command %q", name)
		}
		return cmd(ctx, e, args[1:])
	}
}

// versionCommand prints the library's version and what it was built with,
// the first thing a bug report needs.
func versionCommand(_ context.Context, e env, args []string) int {
	f := newFlags(e, "version", "version\n\nPrints the wechatpay library's version, the Go version the command was\nbuilt with, and the operating system and architecture.")
	if _, code := f.parse(args); code >= 0 {
		return code
	}
	fmt.Fprintf(e.stdout, "wechatpay %s %s %s/%s\n", wechatpay.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}

// flags is a subcommand's FlagSet with the manners of the whole command:
// help asked for goes to standard output with exit 0; a mistake is one
// line naming it, then the usage, on standard error, with exit 2.
type flags struct {
	*flag.FlagSet
	e        env
	synopsis string
}

// newFlags returns the flags of subcommand name, described by synopsis
// (the usage line after "wechatpay ", then any explanation).
func newFlags(e env, name, synopsis string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package's own printing is off: parse prints, to the stream
	// that fits.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{FlagSet: fs, e: e, synopsis: synopsis}
}

// usage writes the subcommand's usage and flags to w.
func (f *flags) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: wechatpay %s\n", f.synopsis)
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		f.SetOutput(w)
		f.PrintDefaults()
		f.SetOutput(io.Discard)
	}
}

// mistake prints a usage mistake: one line naming it, then the usage, on
// standard error; it returns exitUsage.
func (f *flags) mistake(format string, a ...any) int {
	fmt.Fprintf(f.e.stderr, "wechatpay %s: %s\n\n", f.Name(), fmt.Sprintf(format, a...))
	f.usage(f.e.stderr)
	return exitUsage
}

// parse parses args, flags before, between or after the other arguments,
// and returns those arguments, one for each of names ("METHOD", "PATH"; a
// name ending in "..." takes any number), and the exit code to stop with,
// or -1 to go on.
func (f *flags) parse(args []string, names ...string) ([]string, int) {
	var positional []string
	for {
		switch err := f.Parse(args); {
		case errors.Is(err, flag.ErrHelp):
			f.usage(f.e.stdout)
			return nil, exitOK
		case err != nil:
			return nil, f.mistake("%v", err)
		}
		if f.NArg() == 0 {
			break
		}
		positional = append(positional, f.Arg(0))
		args = f.Args()[1:]
	}
	variadic := len(names) > 0 && strings.HasSuffix(names[len(names)-1], "...")
	switch {
	case len(positional) < len(names) && !variadic:
		return nil, f.mistake("missing %s", names[len(positional)])
	case len(positional) > len(names) && !variadic:
		return nil, f.mistake("unexpected argument %q", positional[len(names)])
	}
	return positional, -1
}

// listFlag collects repeated KEY=VALUE flags; a value without "=" or
// without a key is a usage mistake, found while parsing.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return errors.New("expected KEY=VALUE")
	}
	*l = append(*l, v)
	return nil
}

// pairs splits KEY=VALUE items, which listFlag checked.
func pairs(items []string) map[string]string {
	out := map[string]string{}
	for _, it := range items {
		k, v, _ := strings.Cut(it, "=")
		out[k] = v
	}
	return out
}
