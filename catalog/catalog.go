package catalog

import (
	_ "embed"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/wechatpay-chain/wechatpay/internal/didyoumean"
)

//go:embed endpoints.tsv
var tsv string

// DefaultBaseURI is the host of every endpoint whose BaseURI is empty.
const DefaultBaseURI = "https://api.mch.weixin.qq.com/"

// Endpoint is one documented operation.
type Endpoint struct {
	Method   string   // GET, POST, PUT, PATCH or DELETE
	Path     string   // as written in Builder.Chain: "v3/pay/transactions/id/{transaction_id}"; "v2/" paths are APIv2 (XML)
	PHPChain string   // wechatpay-php's chain form: "v3.pay.transactions.id._transaction_id_"
	BaseURI  string   // the host when it is not DefaultBaseURI, such as "https://apihk.mch.weixin.qq.com/"
	API      string   // "v2" or "v3"
	Title    string   // the official name of the operation
	DocURL   string   // the official documentation page; empty for the few operations without a public one
	Flags    []string // markers such as "deprecated" or "redesigned"; Has tests for one
	Params   Params   // the documented parameter names, and options such as mutual TLS
}

// Params are an endpoint's documented parameter names, by where they go.
type Params struct {
	// Path, Query, JSON, XML, Headers and Body list, in that order, the
	// path placeholders, query parameters, JSON body fields, APIv2 XML
	// fields, request headers (Wechatpay-Serial, Content-Type, ...) and
	// multipart parts of an upload (file, meta) that the documentation
	// names, so that a tool can tell what an endpoint takes.
	Path, Query, JSON, XML, Headers, Body []string
	// Opts are request options: "security" (mutual TLS with the merchant
	// certificate), "nonceless", "base_uri", "sink" (a file download), ...
	Opts []string
}

// Host returns the base URI the endpoint is served from.
func (e Endpoint) Host() string {
	if e.BaseURI == "" {
		return DefaultBaseURI
	}
	return e.BaseURI
}

// Has reports whether the endpoint carries a flag such as "deprecated".
func (e Endpoint) Has(flag string) bool { return slices.Contains(e.Flags, flag) }

// Security reports whether the endpoint needs mutual TLS with the merchant
// certificate (APIv2 "opts:security").
func (e Endpoint) Security() bool { return slices.Contains(e.Params.Opts, "security") }

// String gives "METHOD path  title", one line for listings.
func (e Endpoint) String() string {
	s := e.Method + " " + e.Path + "  " + e.Title
	if len(e.Flags) > 0 {
		s += " [" + strings.Join(e.Flags, ",") + "]"
	}
	return s
}

// index is the parsed catalog: rows in file order, rows by path, and a trie
// of path segments for matching concrete paths.
type index struct {
	all    []Endpoint
	byPath map[string][]int
	root   *node
}

type node struct {
	literal  map[string]*node
	wildcard *node // a {placeholder} segment
	rows     []int // rows whose path ends here
}

var load = sync.OnceValue(func() *index { return parse(tsv) })

func parse(data string) *index {
	ix := &index{byPath: map[string][]int{}, root: &node{}}
	lines := strings.Split(strings.TrimRight(data, "\n"), "\n")
	for _, line := range lines[1:] {
		f := strings.Split(strings.TrimRight(line, "\r"), "\t")
		for len(f) < 9 {
			f = append(f, "")
		}
		e := Endpoint{Method: f[0], Path: f[1], PHPChain: f[2], BaseURI: f[3], API: f[5], Title: f[6], DocURL: f[7],
			Flags: splitList(f[8], ","), Params: parseParams(f[4])}
		i := len(ix.all)
		ix.all = append(ix.all, e)
		ix.byPath[e.Path] = append(ix.byPath[e.Path], i)
		n := ix.root
		for _, seg := range strings.Split(e.Path, "/") {
			n = n.child(seg)
		}
		n.rows = append(n.rows, i)
	}
	return ix
}

func (n *node) child(seg string) *node {
	if isPlaceholder(seg) {
		if n.wildcard == nil {
			n.wildcard = &node{}
		}
		return n.wildcard
	}
	if n.literal == nil {
		n.literal = map[string]*node{}
	}
	c := n.literal[seg]
	if c == nil {
		c = &node{}
		n.literal[seg] = c
	}
	return c
}

func isPlaceholder(seg string) bool {
	return len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}'
}

func splitList(s, sep string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, sep)
}

// parseParams reads "path:a,b;query:c;json:d;opts:security".
func parseParams(s string) Params {
	var p Params
	for _, group := range splitList(s, ";") {
		name, list, _ := strings.Cut(group, ":")
		values := splitList(list, ",")
		switch name {
		case "path":
			p.Path = values
		case "query":
			p.Query = values
		case "json":
			p.JSON = values
		case "xml":
			p.XML = values
		case "headers":
			p.Headers = values
		case "body":
			p.Body = values
		case "opts":
			p.Opts = values
		}
	}
	return p
}

// All returns every documented operation in catalog order, in a slice of
// the caller's own: appending to it or changing an element leaves the
// catalog as it is (the Endpoints' own Params slices are still shared).
func All() []Endpoint { return slices.Clone(load().all) }

// Get returns the operations at exactly path (a template such as
// "v3/pay/transactions/id/{transaction_id}"), one per method.
func Get(path string) []Endpoint {
	ix := load()
	return ix.endpoints(ix.byPath[strings.TrimPrefix(path, "/")])
}

// Match returns the operations whose path matches path, where path may hold
// concrete values ("v3/pay/transactions/id/4200000001") or placeholders of
// any name: a literal segment matches the same literal or a placeholder, a
// placeholder only a placeholder. A query string is ignored.
//
// A few documented paths differ only in a placeholder's name
// (v2/secapi/mch/{addinstitutionsub}, .../{queryinstitutionsub}): a path
// written exactly as documented gets its own operations first.
func Match(path string) []Endpoint {
	ix := load()
	path = strings.TrimPrefix(path, "/")
	if rows := ix.byPath[path]; len(rows) > 0 {
		return ix.endpoints(rows)
	}
	return ix.endpoints(ix.root.match(path))
}

// MatchTemplate is the strict Match that decides how a request is sent
// (mutual TLS, nonceless): a literal segment matches only the same literal
// and a placeholder only a placeholder, of any name. Match's looser rule,
// where a literal also matches a placeholder, is right for finding docs and
// hosts, but would lend an undocumented path (v2/secapi/mch/newthing) the
// options of a placeholder row (v2/secapi/mch/{addinstitutionsub}). A
// query string is ignored.
func MatchTemplate(path string) []Endpoint {
	ix := load()
	path = strings.TrimPrefix(path, "/")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if rows := ix.byPath[path]; len(rows) > 0 {
		return ix.endpoints(rows)
	}
	return ix.endpoints(ix.root.walk(path, true))
}

// BaseURI returns the host of the operations at path (matched as Match
// does), or "" when the catalog does not know the path or they use
// DefaultBaseURI.
func BaseURI(path string) string {
	ix := load()
	if rows := ix.root.match(strings.TrimPrefix(path, "/")); len(rows) > 0 {
		return ix.all[rows[0]].BaseURI
	}
	return ""
}

func (ix *index) endpoints(rows []int) []Endpoint {
	if len(rows) == 0 {
		return nil
	}
	out := make([]Endpoint, len(rows))
	for i, r := range rows {
		out[i] = ix.all[r]
	}
	return out
}

// match walks the trie without allocating: literal segments first, then a
// placeholder.
func (n *node) match(path string) []int {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return n.walk(path, false)
}

// walk finds the rows of path below n. strict keeps a literal segment from
// matching a placeholder (MatchTemplate).
func (n *node) walk(path string, strict bool) []int {
	seg, rest, more := strings.Cut(path, "/")
	var next []*node
	switch {
	case seg == "{empty}":
		// wechatpay-php's _empty_ idiom for the paths that end in "/".
		next = []*node{n.literal[""], n.wildcard}
	case isPlaceholder(seg):
		next = []*node{n.wildcard}
	case strict:
		next = []*node{n.literal[seg]}
	default:
		next = []*node{n.literal[seg], n.wildcard}
	}
	for _, c := range next {
		if c == nil {
			continue
		}
		if !more {
			if len(c.rows) > 0 {
				return c.rows
			}
			continue
		}
		if rows := c.walk(rest, strict); len(rows) > 0 {
			return rows
		}
	}
	return nil
}

// Search returns the operations whose method, path, wechatpay-php chain,
// title or documentation link contain every word of query, ignoring case,
// in catalog order. An empty query returns everything.
func Search(query string) []Endpoint {
	words := strings.Fields(strings.ToLower(query))
	var out []Endpoint
	for _, e := range load().all {
		text := strings.ToLower(strings.Join([]string{e.Method, e.Path, e.PHPChain, e.Title, e.DocURL}, " "))
		ok := true
		for _, w := range words {
			if !strings.Contains(text, w) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

// Nearest returns up to n documented paths closest to path (by edit
// distance), for "did you mean" messages.
func Nearest(path string, n int) []string {
	path = strings.TrimPrefix(path, "/")
	type cand struct {
		path string
		d    int
	}
	var cands []cand
	for p := range load().byPath {
		cands = append(cands, cand{p, didyoumean.Distance(path, p)})
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].d != cands[j].d {
			return cands[i].d < cands[j].d
		}
		return cands[i].path < cands[j].path
	})
	var out []string
	for _, c := range cands {
		if len(out) == n || !didyoumean.Near(path, c.d) {
			break
		}
		out = append(out, c.path)
	}
	return out
}

// NotDocumentedError explains a path the catalog does not have.
type NotDocumentedError struct {
	Path    string   // the path as asked for
	Nearest []string // the closest documented paths, for a "did you mean"
}

// Error names the path and the nearest documented ones.
func (e *NotDocumentedError) Error() string {
	if e == nil {
		return "not a documented WeChat Pay path (a nil *NotDocumentedError)"
	}
	msg := fmt.Sprintf("%s is not a documented WeChat Pay path", e.Path)
	if len(e.Nearest) > 0 {
		msg += "; did you mean " + strings.Join(e.Nearest, " or ") + "?"
	}
	return msg + " (Builder.Chain sends to any path, documented or not)"
}
