package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/wechatpay-chain/wechatpay/catalog"
)

// endpointsCommand prints the catalog entries that match every word, with
// what a caller needs next: the host, the Go chain and, with -v, the
// documented parameters and the request command line.
func endpointsCommand(_ context.Context, e env, args []string) int {
	f := newFlags(e, "endpoints", "endpoints [flags] [WORD...]\n\nEach WORD must be in the method, path, PHP chain, title or documentation link.")
	docs := f.Bool("docs", false, "print each endpoint's documentation link too")
	verbose := f.Bool("v", false, "print each endpoint in full: host, Go and PHP chains, request command line, documented parameters, link")
	asJSON := f.Bool("json", false, "print the endpoints as a JSON array")
	positional, code := f.parse(args, "WORD...")
	if code >= 0 {
		return code
	}
	found := catalog.Search(strings.Join(positional, " "))
	switch {
	case *asJSON:
		list := make([]endpointJSON, len(found))
		for i, ep := range found {
			list[i] = newEndpointJSON(ep)
		}
		out, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			fmt.Fprintln(e.stderr, "wechatpay endpoints:", err)
			return exitFailed
		}
		fmt.Fprintf(e.stdout, "%s\n", out)
	case *verbose:
		for i, ep := range found {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			printEndpoint(e.stdout, ep)
		}
	default:
		for _, ep := range found {
			fmt.Fprintln(e.stdout, ep)
			fmt.Fprintf(e.stdout, "    %s  b.%s.%s(ctx, opts)\n", ep.Host(), goChain(ep.Path), verbName(ep.Method))
			if *docs && ep.DocURL != "" {
				fmt.Fprintln(e.stdout, "    "+ep.DocURL)
			}
		}
	}
	if len(found) == 0 {
		fmt.Fprintf(e.stderr, "wechatpay endpoints: nothing matches %q\n", strings.Join(positional, " "))
		return exitNothing
	}
	return exitOK
}

// verbName is the Chain verb of an HTTP method: POST -> Post.
func verbName(method string) string {
	return strings.ToUpper(method[:1]) + strings.ToLower(method[1:])
}

// printEndpoint prints everything the catalog knows of ep, and how to
// call it from Go, PHP and the command line.
func printEndpoint(w io.Writer, ep catalog.Endpoint) {
	fmt.Fprintln(w, ep)
	field := func(name string, values ...string) {
		if len(values) > 0 {
			fmt.Fprint(w, wrapList(fmt.Sprintf("  %-9s", name), values))
		}
	}
	field("host", ep.Host())
	field("Go", "b."+goChain(ep.Path)+"."+verbName(ep.Method)+"(ctx, opts)")
	if ep.PHPChain != "" {
		field("PHP", "$instance->"+strings.ReplaceAll(ep.PHPChain, ".", "->")+"->"+strings.ToLower(ep.Method)+"($options)")
	}
	field("request", requestLine(ep))
	p := ep.Params
	field("path", p.Path...)
	field("query", p.Query...)
	field("json", p.JSON...)
	field("xml", p.XML...)
	field("headers", p.Headers...)
	field("body", p.Body...)
	field("options", p.Opts...)
	field("docs", listOf(ep.DocURL)...)
}

// requestLine is the wechatpay request command line that calls ep, with
// a -path and -query flag for each documented placeholder and query
// parameter; what the command cannot send it says instead.
func requestLine(ep catalog.Endpoint) string {
	switch {
	case ep.Security():
		return "(none: the endpoint needs mutual TLS, which the command does not do)"
	case len(ep.Params.Body) > 0:
		return "(none: a multipart upload, which the command does not do)"
	}
	path := ep.Path
	if strings.ContainsAny(path, "{}") {
		path = "'" + path + "'"
	}
	parts := []string{"wechatpay request", ep.Method, path}
	for _, name := range ep.Params.Path {
		parts = append(parts, "-path "+name+"=...")
	}
	for _, name := range ep.Params.Query {
		parts = append(parts, "-query "+name+"=...")
	}
	if len(ep.Params.JSON) > 0 {
		parts = append(parts, "-data @body.json")
	}
	if len(ep.Params.XML) > 0 {
		parts = append(parts, "-xml KEY=VALUE...")
	}
	return strings.Join(parts, " ")
}

// listOf is s as a list: empty when s is.
func listOf(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// wrapList writes values after prefix, comma-separated, wrapped at 80
// columns under the first value. A single value is never broken.
func wrapList(prefix string, values []string) string {
	const width = 80
	var b strings.Builder
	line := prefix
	for i, v := range values {
		if i < len(values)-1 {
			v += ","
		}
		switch {
		case i == 0:
			line += v
		case len(line)+1+len(v) > width:
			b.WriteString(line + "\n")
			line = strings.Repeat(" ", len(prefix)) + v
		default:
			line += " " + v
		}
	}
	b.WriteString(line + "\n")
	return b.String()
}

// endpointJSON is an endpoint as -json prints it: every list present,
// empty rather than null, so that a script need not tell them apart.
type endpointJSON struct {
	Method string     `json:"method"`
	Path   string     `json:"path"`
	Title  string     `json:"title"`
	API    string     `json:"api"`
	Host   string     `json:"host"`
	Go     string     `json:"go"`
	PHP    string     `json:"php"`
	Docs   string     `json:"docs"`
	Flags  []string   `json:"flags"`
	Params paramsJSON `json:"params"`
}

// paramsJSON are catalog.Params with JSON names.
type paramsJSON struct {
	Path    []string `json:"path"`
	Query   []string `json:"query"`
	JSON    []string `json:"json"`
	XML     []string `json:"xml"`
	Headers []string `json:"headers"`
	Body    []string `json:"body"`
	Opts    []string `json:"opts"`
}

func newEndpointJSON(ep catalog.Endpoint) endpointJSON {
	list := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	p := ep.Params
	return endpointJSON{
		Method: ep.Method, Path: ep.Path, Title: ep.Title, API: ep.API, Host: ep.Host(),
		Go: goChain(ep.Path), PHP: ep.PHPChain, Docs: ep.DocURL, Flags: list(ep.Flags),
		Params: paramsJSON{Path: list(p.Path), Query: list(p.Query), JSON: list(p.JSON), XML: list(p.XML),
			Headers: list(p.Headers), Body: list(p.Body), Opts: list(p.Opts)},
	}
}
