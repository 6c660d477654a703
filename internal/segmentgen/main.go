// Command segmentgen writes the Chain's segment methods (segments_gen.go)
// and the catalog conformance table (conformance_gen_test.go) from the
// embedded catalog. Run it with go generate ./... in the module root.
//
// Method names are recorded in names.tsv beside it, one segment a line:
// a segment keeps the name recorded for it for ever, and only a new
// segment is named by the rules (GoName, then the collision rule) and
// appended. Naming from scratch each time would let a new catalog row
// rename a method callers use, because which of two colliding segments
// gets the suffix depends on which segments exist. A run that would rename
// a method segments_gen.go has fails and writes nothing.
//
// With -check it writes nothing and fails, naming what differs, when the
// table, segments_gen.go or conformance_gen_test.go is not what a run
// would write (CI).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/wechatpay-chain/wechatpay/catalog"
)

// reserved are the names of Chain's own exported methods (hand-written, not
// generated); a new segment whose Go name is one of them takes the suffix
// "Seg". TestReservedAreChainMethods fails when this list and Chain differ.
var reserved = map[string]bool{
	"Seg": true, "Value": true, "Path": true, "Err": true, "URL": true, "Endpoints": true,
	"Get": true, "Post": true, "Put": true, "Patch": true, "Delete": true,
	"GetAsync": true, "PostAsync": true, "PutAsync": true, "PatchAsync": true, "DeleteAsync": true,
}

// initialisms are written in capitals, as Go names do.
var initialisms = map[string]bool{
	"ACL": true, "API": true, "ASCII": true, "CPU": true, "CSS": true, "DNS": true, "EOF": true, "GUID": true,
	"HTML": true, "HTTP": true, "HTTPS": true, "ID": true, "IP": true, "JSON": true, "QPS": true, "RAM": true,
	"RPC": true, "SLA": true, "SMTP": true, "SQL": true, "SSH": true, "TCP": true, "TLS": true, "TTL": true,
	"UDP": true, "UI": true, "UID": true, "UUID": true, "URI": true, "URL": true, "UTF8": true, "VM": true,
	"XML": true, "XMPP": true, "XSRF": true, "XSS": true,
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "segmentgen:", err)
		os.Exit(1)
	}
}

func run() error {
	check := flag.Bool("check", false, "fail if the generated files are not up to date, writing nothing")
	flag.Parse()
	return generate(catalog.All(), defaultFiles, *check)
}

// files are where the generator reads and writes, relative to the module root.
type files struct {
	table, segments, conformance string
}

var defaultFiles = files{
	table:       "internal/segmentgen/names.tsv",
	segments:    "segments_gen.go",
	conformance: "conformance_gen_test.go",
}

// generate names the segments of eps (with the table at f.table) and writes
// the table and both generated files, or with check only compares them.
func generate(eps []catalog.Endpoint, f files, check bool) error {
	table, err := readTable(f.table)
	if err != nil {
		return err
	}
	names, added, err := assignNames(eps, table, f.table)
	if err != nil {
		return err
	}
	methods, err := readMethods(f.segments)
	if err != nil {
		return err
	}
	if err := noRenames(methods, names, f); err != nil {
		return err
	}
	segments, err := format.Source(segmentsFile(eps, names))
	if err != nil {
		return fmt.Errorf("formatting %s: %w", f.segments, err)
	}
	conformance, err := format.Source(conformanceFile(eps, names))
	if err != nil {
		return fmt.Errorf("formatting %s: %w", f.conformance, err)
	}
	out := []struct {
		path string
		data []byte
	}{{f.table, tableFile(names)}, {f.segments, segments}, {f.conformance, conformance}}
	if !check {
		for _, o := range out {
			if err := os.WriteFile(o.path, o.data, 0o644); err != nil {
				return err
			}
		}
		return nil
	}

	var stale []string
	for _, seg := range added {
		stale = append(stale, fmt.Sprintf("%s lacks segment %q (a new catalog segment; it would be %s)", f.table, seg, names[seg]))
	}
	if old, _ := os.ReadFile(f.table); len(added) == 0 && !bytes.Equal(old, out[0].data) {
		stale = append(stale, fmt.Sprintf("%s is not in the generator's form (its comment, then segment<TAB>Method lines sorted by segment)", f.table))
	}
	segStale := len(stale)
	for _, seg := range sortedKeys(names, methods) {
		switch old, ok := methods[seg]; {
		case !ok:
			stale = append(stale, fmt.Sprintf("%s lacks %s for segment %q", f.segments, names[seg], seg))
		case names[seg] == "":
			stale = append(stale, fmt.Sprintf("%s has %s for segment %q, which neither the catalog nor the table has", f.segments, old, seg))
		}
	}
	if old, _ := os.ReadFile(f.segments); len(stale) == segStale && !bytes.Equal(old, segments) {
		stale = append(stale, fmt.Sprintf("%s differs from what the generator writes (edited by hand? doc comments or header)", f.segments))
	}
	if old, _ := os.ReadFile(f.conformance); !bytes.Equal(old, conformance) {
		stale = append(stale, fmt.Sprintf("%s differs from what the generator writes", f.conformance))
	}
	if len(stale) == 0 {
		return nil
	}
	const most = 20 // a missing table would list every segment
	if len(stale) > most {
		stale = append(stale[:most], fmt.Sprintf("... and %d more", len(stale)-most))
	}
	return fmt.Errorf("generated files are stale:\n\t%s\nrun go generate ./... (or go run ./internal/segmentgen) in the module root",
		strings.Join(stale, "\n\t"))
}

// sortedKeys returns the keys of both maps, sorted, each once.
func sortedKeys(a, b map[string]string) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// noRenames fails when a method of the existing segments file would get
// another name: callers of the old name would stop compiling. A method
// whose segment neither the catalog nor the table has any more may go.
func noRenames(methods, names map[string]string, f files) error {
	var renames []string
	for seg, old := range methods {
		if name := names[seg]; name != "" && name != old {
			renames = append(renames, fmt.Sprintf("segment %q: %s (%s) would be renamed %s (%s): restore the line %q in %s",
				seg, old, f.segments, name, f.table, seg+"\t"+old, f.table))
		}
	}
	if len(renames) == 0 {
		return nil
	}
	sort.Strings(renames)
	return fmt.Errorf("a method name never changes, since callers use it:\n\t%s", strings.Join(renames, "\n\t"))
}

// GoName turns a path segment into a method name: split at "-", "_" and
// ".", each part capitalised, initialisms in capitals.
func GoName(seg string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		if up := strings.ToUpper(part); initialisms[up] {
			b.WriteString(up)
		} else {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// methodNames names every literal segment of eps by the rules alone, as
// with an empty table.
func methodNames(eps []catalog.Endpoint) (map[string]string, error) {
	names, _, err := assignNames(eps, nil, "names.tsv")
	return names, err
}

// assignNames gives every segment of the table and every literal segment of
// the catalog its method name: the table's when it has one. The others,
// added, are named by the rules in byte order: GoName, and a name already
// taken (by a Chain method, the table or an earlier new segment) gets the
// suffix "Seg": delete -> DeleteSeg, and policy_periods -> PolicyPeriodsSeg
// when policy-periods, which sorts first, is new with it. A segment whose
// name with the suffix is taken too is refused: give it a name in the table.
func assignNames(eps []catalog.Endpoint, table map[string]string, tablePath string) (names map[string]string, added []string, err error) {
	names = map[string]string{}
	taken := map[string]string{}
	var recorded []string
	for seg := range table {
		recorded = append(recorded, seg)
	}
	sort.Strings(recorded)
	for _, seg := range recorded {
		name := table[seg]
		if reserved[name] {
			return nil, nil, fmt.Errorf("%s: segment %q is recorded as %s, a method of Chain itself: "+
				"give the hand-written method another name (a recorded name never changes)", tablePath, seg, name)
		}
		names[seg], taken[name] = name, seg
	}
	for _, e := range eps {
		for _, seg := range strings.Split(e.Path, "/") {
			if _, ok := names[seg]; !ok && seg != "" && !isPlaceholder(seg) {
				names[seg] = "" // named below
				added = append(added, seg)
			}
		}
	}
	sort.Strings(added)
	for _, seg := range added {
		name := GoName(seg)
		if name == "" || name[0] < 'A' || name[0] > 'Z' {
			return nil, nil, fmt.Errorf("segment %q gives no exported Go name: give it one in %s by hand", seg, tablePath)
		}
		if reserved[name] || taken[name] != "" {
			name += "Seg"
		}
		if other := taken[name]; other != "" || reserved[name] {
			return nil, nil, fmt.Errorf("segments %q and %q both give %s: extend the collision rule, or name %q in %s by hand (a line %q)",
				other, seg, name, seg, tablePath, seg+"\tName")
		}
		names[seg], taken[name] = name, seg
	}
	return names, added, nil
}

// tableHeader opens names.tsv.
const tableHeader = `# Method names of the Chain's segment methods (segments_gen.go), one
# "segment<TAB>Method" line per path segment, sorted by segment.
# go run ./internal/segmentgen (go generate ./...) adds a line for each new
# catalog segment and never changes a line, so a method keeps its name when
# catalog rows are added. A new segment whose name by the rules collides may
# be given a name here by hand before generating. Changing a line renames a
# method callers use: the generator refuses that.
`

// tableFile writes the table: tableHeader, then every segment and its name,
// sorted by segment, so that a diff shows just the lines added.
func tableFile(names map[string]string) []byte {
	segs := make([]string, 0, len(names))
	for seg := range names {
		segs = append(segs, seg)
	}
	sort.Strings(segs)
	var b bytes.Buffer
	b.WriteString(tableHeader)
	for _, seg := range segs {
		fmt.Fprintf(&b, "%s\t%s\n", seg, names[seg])
	}
	return b.Bytes()
}

// generatedHeader opens both generated files: the first line is the one
// Go tools recognise, the rest says how to regenerate.
const generatedHeader = `// Code generated by go run ./internal/segmentgen; DO NOT EDIT.
//
// To change it, edit catalog/endpoints.tsv (or the generator) and run
// go generate ./... in the module root. Method names are kept in
// internal/segmentgen/names.tsv; a method once generated keeps its name.

`

func isPlaceholder(seg string) bool {
	return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}")
}

func segmentsFile(eps []catalog.Endpoint, names map[string]string) []byte {
	uses := map[string][]catalog.Endpoint{}
	for _, e := range eps {
		for _, seg := range strings.Split(e.Path, "/") {
			if names[seg] != "" {
				uses[seg] = append(uses[seg], e)
			}
		}
	}
	segs := make([]string, 0, len(names))
	for seg := range names {
		segs = append(segs, seg)
	}
	sort.Slice(segs, func(i, j int) bool { return names[segs[i]] < names[segs[j]] })

	var b bytes.Buffer
	b.WriteString(generatedHeader + "package wechatpay\n")
	for _, seg := range segs {
		name := names[seg]
		if len(uses[seg]) == 0 {
			// Kept from the table after its catalog rows went.
			fmt.Fprintf(&b, "\n// %s appends the segment %q. No catalog endpoint uses it any more;\n// it stays so that code calling it still compiles.\n", name, seg)
		} else {
			fmt.Fprintf(&b, "\n// %s appends the segment %q. Documented endpoints that use it:\n", name, seg)
		}
		for _, e := range examples(uses[seg]) {
			fmt.Fprintf(&b, "//   - %s %s: %s\n", e.Method, e.Path, e.Title)
			if e.DocURL != "" {
				fmt.Fprintf(&b, "//     %s\n", e.DocURL)
			}
		}
		fmt.Fprintf(&b, "func (c *Chain) %s() *Chain { return c.lit(%q) }\n", name, seg)
	}
	return b.Bytes()
}

// examples picks up to two endpoints to show: those with a documentation
// link first, current ones before flagged ones, then the shortest paths.
func examples(eps []catalog.Endpoint) []catalog.Endpoint {
	sorted := append([]catalog.Endpoint(nil), eps...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if (a.DocURL == "") != (b.DocURL == "") {
			return a.DocURL != ""
		}
		if (len(a.Flags) > 0) != (len(b.Flags) > 0) {
			return len(a.Flags) == 0
		}
		if len(a.Path) != len(b.Path) {
			return len(a.Path) < len(b.Path)
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Method < b.Method
	})
	if len(sorted) > 2 {
		sorted = sorted[:2]
	}
	return sorted
}

// conformanceFile writes, for every catalog row, the pure segment chain with
// placeholders through Seg("_name_") and the same chain with Value(sample).
func conformanceFile(eps []catalog.Endpoint, names map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString(generatedHeader + "package wechatpay_test\n\n")
	b.WriteString("import \"github.com/wechatpay-chain/wechatpay\"\n\n")
	b.WriteString("// conformanceRows has one entry per catalog row, in catalog order.\nvar conformanceRows = []conformanceRow{\n")
	for _, e := range eps {
		segs := strings.Split(e.Path, "/")
		var pure, values strings.Builder
		pure.WriteString("b." + strings.ToUpper(segs[0]) + "()")
		values.WriteString("b." + strings.ToUpper(segs[0]) + "()")
		for i, seg := range segs[1:] {
			switch {
			case seg == "" && i == len(segs)-2:
				// wechatpay-php reaches a trailing "/" with an empty placeholder.
				pure.WriteString(`.Seg("_empty_")`)
				values.WriteString(`.Seg("_empty_")`)
			case isPlaceholder(seg):
				name := seg[1 : len(seg)-1]
				fmt.Fprintf(&pure, ".Seg(%q)", "_"+name+"_")
				fmt.Fprintf(&values, ".Value(sample(%q))", name)
			default:
				pure.WriteString("." + names[seg] + "()")
				values.WriteString("." + names[seg] + "()")
			}
		}
		fmt.Fprintf(&b, "\t{%q, %q, func(b *wechatpay.Builder) *wechatpay.Chain { return %s }, func(b *wechatpay.Builder) *wechatpay.Chain { return %s }},\n",
			e.Method, e.Path, pure.String(), values.String())
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// readTable reads the name table: segment<TAB>method a line, sorted by
// segment; blank lines and lines beginning with "#" are comments. A
// missing file is an empty table (the first run writes it).
func readTable(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	table := map[string]string{}
	bySeg := map[string]int{}
	byName := map[string]int{}
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		seg, name, ok := strings.Cut(line, "\t")
		switch {
		case !ok || seg == "" || strings.Contains(name, "\t"):
			return nil, fmt.Errorf("%s:%d: %q: want a segment, a tab and a method name", path, n, line)
		case strings.Contains(seg, "/") || isPlaceholder(seg):
			return nil, fmt.Errorf("%s:%d: %q is not a literal path segment", path, n, seg)
		case !token.IsIdentifier(name) || !token.IsExported(name):
			return nil, fmt.Errorf("%s:%d: %q is not an exported Go name", path, n, name)
		case bySeg[seg] != 0:
			return nil, fmt.Errorf("%s:%d: segment %q is already on line %d", path, n, seg, bySeg[seg])
		case byName[name] != 0:
			return nil, fmt.Errorf("%s:%d: method %s is already on line %d", path, n, name, byName[name])
		}
		bySeg[seg], byName[name] = n, n
		table[seg] = name
	}
	return table, nil
}

// readMethods reads the segment methods of a generated segments file
// (func (c *Chain) Name() *Chain { return c.lit("seg") }), segment to
// method name; a missing file has none.
func readMethods(path string) (map[string]string, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	file, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
	if err != nil {
		return nil, err
	}
	methods := map[string]string{}
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || fn.Body == nil || len(fn.Body.List) != 1 {
			continue
		}
		ret, ok := fn.Body.List[0].(*ast.ReturnStmt)
		if !ok || len(ret.Results) != 1 {
			continue
		}
		call, ok := ret.Results[0].(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			continue
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		lit, isLit := call.Args[0].(*ast.BasicLit)
		if !ok || sel.Sel.Name != "lit" || !isLit || lit.Kind != token.STRING {
			continue
		}
		seg, err := strconv.Unquote(lit.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, lit.Value, err)
		}
		methods[seg] = fn.Name.Name
	}
	return methods, nil
}
