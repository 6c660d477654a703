package wechatpay_test

import (
	"bufio"
	"context"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/catalog"
	"github.com/wechatpay-chain/wechatpay/wechatpaytest"
)

// readmeBlock is one ```go block of README.md.
type readmeBlock struct {
	line int    // README line of the block's first code line
	code string // the lines between the fences
}

// readmeGoBlocks returns every ```go block of README.md, in order.
func readmeGoBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	f, err := os.Open("README.md")
	require.NoError(t, err)
	defer f.Close()
	var blocks []readmeBlock
	var cur *readmeBlock
	var lines []string
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := s.Text()
		fence := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(fence, "```"):
			lang := strings.TrimPrefix(fence, "```")
			if lang == "go" || lang == "golang" || lang == "Go" {
				cur, lines = &readmeBlock{line: n + 1}, nil
			} else {
				cur = &readmeBlock{line: -1} // another language: skipped
			}
		case cur != nil && fence == "```":
			if cur.line > 0 {
				cur.code = strings.Join(lines, "\n")
				blocks = append(blocks, *cur)
			}
			cur = nil
		case cur != nil:
			lines = append(lines, line)
		}
	}
	require.NoError(t, s.Err())
	require.Nil(t, cur, "README.md ends inside a code block")
	return blocks
}

// readmeImports are the packages a README block may use without importing
// them: the generator imports those a block names.
var readmeImports = map[string]string{
	"context": "context", "errors": "errors", "fmt": "fmt", "io": "io", "log": "log",
	"slog": "log/slog", "http": "net/http", "url": "net/url", "os": "os", "time": "time",
	"rsa": "crypto/rsa", "tls": "crypto/tls", "json": "encoding/json", "testing": "testing",
	"bytes": "bytes", "httptest": "net/http/httptest", "filepath": "path/filepath",
	"wechatpay":     "github.com/wechatpay-chain/wechatpay",
	"catalog":       "github.com/wechatpay-chain/wechatpay/catalog",
	"certificates":  "github.com/wechatpay-chain/wechatpay/certificates",
	"middleware":    "github.com/wechatpay-chain/wechatpay/middleware",
	"notify":        "github.com/wechatpay-chain/wechatpay/notify",
	"wechatpaytest": "github.com/wechatpay-chain/wechatpay/wechatpaytest",
	"apiv2":         "github.com/wechatpay-chain/wechatpay/apiv2",
	"aesgcm":        "github.com/wechatpay-chain/wechatpay/aesgcm",
	"assert":        "github.com/stretchr/testify/assert",
	"require":       "github.com/stretchr/testify/require",
}

// readmeTopLevel tells a block of declarations from a block of statements:
// the first line that is neither blank nor a // comment starts with "func "
// or "type ".
func readmeTopLevel(code string) bool {
	for _, line := range strings.Split(code, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		return strings.HasPrefix(line, "func ") || strings.HasPrefix(line, "type ")
	}
	return false
}

// readmeSource turns block i into a Go file of package readme.
//
// A block of declarations (see readmeTopLevel) is the file's body as it is.
// A block of statements becomes the body of its own function returning
// error, so it may "return err"; unless its last line is a return, the
// function then ends with "_, _ = b, resp" and "return nil": a block may
// leave b (a Builder) and resp (a Response) for the text that follows to
// use, as the preamble's variables of the same names stand for; any other
// variable it declares, err included, it must use itself, as real code
// must.
//
// A //line comment makes errors name README.md and its lines. The imports
// are those of readmeImports the block uses as pkg.Name, unless it declares
// a name of the same spelling itself.
func readmeSource(i int, blk readmeBlock) ([]byte, error) {
	var body strings.Builder
	lineDirective := fmt.Sprintf("//line README.md:%d\n", blk.line)
	if readmeTopLevel(blk.code) {
		body.WriteString(lineDirective + blk.code + "\n")
	} else {
		fmt.Fprintf(&body, "func readmeBlock%02d() error {\n%s%s\n", i, lineDirective, blk.code)
		if !readmeEndsInReturn(blk.code) {
			body.WriteString("\t_, _ = b, resp\n\treturn nil\n")
		}
		body.WriteString("}\n")
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "", "package readme\n\n"+body.String(), parser.AllErrors)
	if err != nil {
		return nil, err
	}
	// Names the block declares (a variable called url, say) are not
	// packages; the X of every other X.Sel that readmeImports knows is.
	declared := map[string]bool{}
	declare := func(exprs ...ast.Expr) {
		for _, e := range exprs {
			if id, ok := e.(*ast.Ident); ok {
				declared[id.Name] = true
			}
		}
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				declare(n.Lhs...)
			}
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				declare(n.Key, n.Value)
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				declare(id)
			}
		case *ast.Field:
			for _, id := range n.Names {
				declare(id)
			}
		case *ast.FuncDecl:
			declare(n.Name)
		case *ast.TypeSpec:
			declare(n.Name)
		}
		return true
	})
	var imports []string
	seen := map[string]bool{}
	ast.Inspect(file, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && !declared[id.Name] {
				if path, ok := readmeImports[id.Name]; ok && !seen[path] {
					seen[path] = true
					imports = append(imports, fmt.Sprintf("\t%q\n", path))
				}
			}
		}
		return true
	})
	sort.Strings(imports)
	src := fmt.Sprintf("// Code generated by TestREADMECompiles from README.md. DO NOT EDIT.\n\npackage readme\n\nimport (\n%s)\n\n%s",
		strings.Join(imports, ""), body.String())
	if len(imports) == 0 {
		src = strings.Replace(src, "import (\n)\n\n", "", 1)
	}
	return []byte(src), nil
}

// readmeEndsInReturn reports whether the last line of code that is not a
// comment is a return statement (code after it would be unreachable).
func readmeEndsInReturn(code string) bool {
	lines := strings.Split(code, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		return line == "return" || strings.HasPrefix(line, "return ")
	}
	return false
}

// goCommand returns the go command, or "" when this machine has none. go
// test puts its own GOROOT/bin first on the test's PATH, so the go that
// runs the tests is the one found.
func goCommand() string {
	p, _ := exec.LookPath("go")
	return p
}

// TestREADMECompiles builds and vets every ```go block of README.md with
// the preamble testdata/readme/preamble.go, so that the README cannot
// drift from the code: a renamed method, a wrong argument, an unused err
// fail here with the README's own line numbers.
//
// The package is written to a folder inside the module (its imports
// resolve as the module's own) whose name starts with "." so that ./...
// never sees it; it is removed afterwards. One go build and one go vet
// cover all blocks. Only a machine without the go command skips the test.
func TestREADMECompiles(t *testing.T) {
	t.Parallel()
	gocmd := goCommand()
	if gocmd == "" {
		t.Skip("no go command on this machine")
	}
	blocks := readmeGoBlocks(t)
	require.GreaterOrEqual(t, len(blocks), 10, "README.md has fewer ```go blocks than expected: is the extraction broken?")

	dir, err := os.MkdirTemp(".", ".readmecheck-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	preamble, err := os.ReadFile(filepath.Join("testdata", "readme", "preamble.go"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "preamble.go"), preamble, 0o644))
	for i, blk := range blocks {
		src, err := readmeSource(i, blk)
		if err != nil {
			t.Errorf("README.md block at line %d does not parse: %v", blk.line, err)
			continue
		}
		if formatted, err := format.Source(src); err == nil {
			src = formatted
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("block%02d.go", i)), src, 0o644))
	}
	if t.Failed() {
		return
	}

	pkg := "./" + filepath.Base(dir)
	for _, args := range [][]string{{"build", "-o", os.DevNull, pkg}, {"vet", pkg}} {
		cmd := exec.Command(gocmd, args...)
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOTOOLCHAIN=local")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s of README.md's Go blocks failed (the generated files are under %s while the test runs):\n%s",
				args[0], dir, out)
		}
	}
}

// readmeLine returns the first match of re in README.md: the examples
// whose output the README shows are checked against the code.
func readmeLine(t *testing.T, re string) []string {
	t.Helper()
	text, err := os.ReadFile("README.md")
	require.NoError(t, err)
	m := regexp.MustCompile(re).FindStringSubmatch(string(text))
	require.NotNil(t, m, "README.md has no line matching %s", re)
	return m
}

// TestREADMEValueExample: the Value example sends what the README says,
// with the Options of "Three ways to write a call" it reuses.
func TestREADMEValueExample(t *testing.T) {
	t.Parallel()
	shown := readmeLine(t, "\\.Value\\(\"N20261128/01\"\\)\\.Get\\(ctx, wechatpay\\.Options\\{Query: opts\\.Query\\}\\)\n// (GET \\S+)\n")[1]
	// At the root, not newServer's base path: the README shows the request
	// line the real host receives.
	srv := wechatpaytest.NewServer()
	t.Cleanup(srv.Close)
	srv.Handle("/", echo)
	b := newBuilder(t, srv, nil)
	opts := wechatpay.Options{

		Path:  map[string]string{"out_trade_no": "1217752501201407033233368018"},
		Query: url.Values{"mchid": {"1900000001"}},
	}
	_, err := b.V3().Pay().Transactions().OutTradeNo().Value("N20261128/01").Get(context.Background(), opts)
	require.ErrorContains(t, err, "Options.Path has out_trade_no but the path has no {placeholder}", "why the README does not pass opts itself")
	_, err = b.V3().Pay().Transactions().OutTradeNo().Value("N20261128/01").Get(context.Background(), wechatpay.Options{Query: opts.Query})
	require.NoError(t, err)
	got := lastAccepted(t, srv)
	assert.Equal(t, shown, got.Method+" "+got.RequestURI)
}

// TestREADMESearchExample: the line the README shows is among the results.
func TestREADMESearchExample(t *testing.T) {
	t.Parallel()
	m := readmeLine(t, `catalog\.Search\("([^"]+)"\).*\n\s*fmt\.Println\(e\) // among them: (.+)\n`)
	var got []string
	for _, e := range catalog.Search(m[1]) {
		got = append(got, e.String())
	}
	assert.Contains(t, got, m[2])
}

// TestREADMEEndpointExample: the error the README shows is the one given.
func TestREADMEEndpointExample(t *testing.T) {
	t.Parallel()
	m := readmeLine(t, `b\.Endpoint\("([^"]+)"\)\n\s*fmt\.Println\(err\) // (.+)\n((?:[ \t]*// .+\n)*)`)
	shown := m[2]
	for _, line := range strings.Split(strings.TrimSpace(m[3]), "\n") { // the comment lines that go on
		if line != "" {
			shown += " " + strings.TrimPrefix(strings.TrimSpace(line), "// ")
		}
	}
	srv := newServer(t)
	_, err := newBuilder(t, srv, nil).Endpoint(m[1])
	require.Error(t, err)
	assert.Equal(t, shown, err.Error())
}

// TestREADMECheckoutIsThisTest: the README's checkout test under "Testing
// your integration" is wechatpaytest's TestCheckout word for word, so the
// test users copy is one that runs and passes in CI.
func TestREADMECheckoutIsThisTest(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("wechatpaytest/checkout_test.go")
	require.NoError(t, err)
	start := strings.Index(string(src), "func TestCheckout(")
	require.GreaterOrEqual(t, start, 0, "wechatpaytest/checkout_test.go has no TestCheckout")
	end := strings.Index(string(src[start:]), "\n}\n")
	require.Greater(t, end, 0)
	fn := string(src[start : start+end+2])
	var found bool
	for _, blk := range readmeGoBlocks(t) {
		if strings.Contains(blk.code, "func TestCheckout(") {
			found = true
			assert.Equal(t, fn, blk.code, "README.md line %d: the checkout test differs from wechatpaytest/checkout_test.go", blk.line)
		}
	}
	assert.True(t, found, "README.md has no block with func TestCheckout")
}
