package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wechatpay-chain/wechatpay"
	"github.com/wechatpay-chain/wechatpay/catalog"
)

// committed are the real files, seen from this package's directory.
var committed = files{
	table:       "names.tsv",
	segments:    "../../segments_gen.go",
	conformance: "../../conformance_gen_test.go",
}

// tempFiles copies the committed table and generated files into a temporary
// directory, so that a test can run the generator on them and change them.
func tempFiles(t *testing.T) files {
	t.Helper()
	dir := t.TempDir()
	f := files{
		table:       filepath.Join(dir, "names.tsv"),
		segments:    filepath.Join(dir, "segments_gen.go"),
		conformance: filepath.Join(dir, "conformance_gen_test.go"),
	}
	for src, dst := range map[string]string{committed.table: f.table, committed.segments: f.segments, committed.conformance: f.conformance} {
		data, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(dst, data, 0o644))
	}
	return f
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(data), old)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644))
}

// changes returns the entries of after that before lacks or has otherwise,
// and "<gone>" for those after lacks.
func changes(before, after map[string]string) map[string]string {
	d := map[string]string{}
	for k, v := range after {
		if before[k] != v {
			d[k] = v
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			d[k] = "<gone>"
		}
	}
	return d
}

// withRow is the catalog with one more row. It copies: catalog.All's slice
// is the catalog's own, and appending to it could write into its spare
// capacity, which other tests read.
func withRow(path string) []catalog.Endpoint {
	return append(slices.Clone(catalog.All()), catalog.Endpoint{Method: "GET", Path: path, API: "v3", Title: "fake"})
}

func TestGoName(t *testing.T) {
	t.Parallel()
	for seg, want := range map[string]string{
		"jsapi-pre-entrust-sign": "JsapiPreEntrustSign",
		"out-trade-no":           "OutTradeNo",
		"id":                     "ID",
		"url":                    "URL",
		"sub-api":                "SubAPI",
		"complaints-v2":          "ComplaintsV2",
		"applyment4sub":          "Applyment4sub",
		"pay_bank":               "PayBank",
		"v3":                     "V3",
		"h5":                     "H5",
	} {
		assert.Equal(t, want, GoName(seg), seg)
	}
}

func TestMethodNameCollisions(t *testing.T) {
	t.Parallel()
	eps := []catalog.Endpoint{
		{Path: "v3/a/policy_periods/{id}"},
		{Path: "v3/a/policy-periods"},
		{Path: "v3/b/delete"},
		{Path: "v3/c/value"},
	}
	names, err := methodNames(eps)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"v3": "V3", "a": "A", "b": "B", "c": "C",
		"policy-periods": "PolicyPeriods", "policy_periods": "PolicyPeriodsSeg",
		"delete": "DeleteSeg", "value": "ValueSeg",
	}, names)

	_, err = methodNames([]catalog.Endpoint{{Path: "v3/x-seg/x"}, {Path: "v3/x_/x-"}})
	assert.ErrorContains(t, err, "extend the collision rule")
}

// TestRealCatalogNames pins the collisions the real catalog has today.
func TestRealCatalogNames(t *testing.T) {
	t.Parallel()
	names, err := readMethods(committed.segments)
	require.NoError(t, err)
	for seg, want := range map[string]string{
		"delete": "DeleteSeg", "policy_periods": "PolicyPeriodsSeg", "applyment_id": "ApplymentIDSeg",
		"business_code": "BusinessCodeSeg", "policy-periods": "PolicyPeriods", "applyment-id": "ApplymentID",
	} {
		assert.Equal(t, want, names[seg], seg)
	}
}

// TestCommittedFilesUpToDate is what CI's go run ./internal/segmentgen -check does.
func TestCommittedFilesUpToDate(t *testing.T) {
	t.Parallel()
	require.NoError(t, generate(catalog.All(), committed, true))
	table, err := readTable(committed.table)
	require.NoError(t, err)
	methods, err := readMethods(committed.segments)
	require.NoError(t, err)
	assert.Equal(t, table, methods, "the table and segments_gen.go name the same methods")
}

// TestNewSegmentKeepsExistingNames: a catalog row whose new segment sorts
// before an existing one with the same Go name would, by the collision rule
// alone, take the name and push the existing method to ...Seg. With the
// table, every existing method keeps its name and the new segment gets the
// suffix; the table gains exactly the new line.
func TestNewSegmentKeepsExistingNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		row, seg, want       string // the fake row, its new segment and that segment's name
		existing, keep, rule string // an existing segment, its kept name, and its name by the rule alone
	}{
		{"v3/sub-merchants", "sub-merchants", "SubMerchantsSeg", "sub_merchants", "SubMerchants", "SubMerchantsSeg"},
		{"v3/Mch_Media", "Mch_Media", "MchMediaSeg", "mch_media", "MchMedia", "MchMediaSeg"},
	} {
		t.Run(tc.seg, func(t *testing.T) {
			t.Parallel()
			eps := withRow(tc.row)
			byRule, err := methodNames(eps)
			require.NoError(t, err)
			require.Equal(t, tc.rule, byRule[tc.existing], "without the table the row would rename %q", tc.existing)

			f := tempFiles(t)
			oldTable, err := readTable(f.table)
			require.NoError(t, err)
			oldMethods, err := readMethods(f.segments)
			require.NoError(t, err)

			require.NoError(t, generate(eps, f, false))

			table, err := readTable(f.table)
			require.NoError(t, err)
			methods, err := readMethods(f.segments)
			require.NoError(t, err)
			assert.Equal(t, tc.keep, methods[tc.existing])
			assert.Equal(t, tc.want, methods[tc.seg])
			assert.Equal(t, map[string]string{tc.seg: tc.want}, changes(oldTable, table), "the table gains only the new line")
			assert.Equal(t, map[string]string{tc.seg: tc.want}, changes(oldMethods, methods), "segments_gen.go gains only the new method")
			conformance, err := os.ReadFile(f.conformance)
			require.NoError(t, err)
			assert.Contains(t, string(conformance), `"GET", "`+tc.row+`"`)
			assert.Contains(t, string(conformance), "."+tc.want+"()")
			require.NoError(t, generate(eps, f, true), "-check passes after a normal run")
		})
	}
}

// TestCollidingSegmentNamedByHand: a new segment whose name and name+"Seg"
// are both taken (applyment.id beside applyment-id and applyment_id) is
// refused with a message naming it, not resolved by renaming ApplymentIDSeg;
// a name written in the table by hand is then used.
func TestCollidingSegmentNamedByHand(t *testing.T) {
	t.Parallel()
	eps := withRow("v3/applyment.id")
	f := tempFiles(t)
	before, err := os.ReadFile(f.segments)
	require.NoError(t, err)

	err = generate(eps, f, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"applyment.id"`)
	assert.Contains(t, err.Error(), "names.tsv by hand")
	after, err := os.ReadFile(f.segments)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "nothing written")

	editFile(t, f.table, "applyment_id\tApplymentIDSeg\n", "applyment_id\tApplymentIDSeg\napplyment.id\tApplymentIDDot\n")
	require.NoError(t, generate(eps, f, false))
	methods, err := readMethods(f.segments)
	require.NoError(t, err)
	assert.Equal(t, "ApplymentID", methods["applyment-id"])
	assert.Equal(t, "ApplymentIDSeg", methods["applyment_id"])
	assert.Equal(t, "ApplymentIDDot", methods["applyment.id"])
	require.NoError(t, generate(eps, f, true))
}

// TestCheckRefusesRename: a table edited by hand to rename a method that
// segments_gen.go has fails -check and a normal run alike, naming the
// segment, the old name and the new one; nothing is written.
func TestCheckRefusesRename(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		edit      func(t *testing.T, f files)
		wantParts []string
	}{
		{"one line", func(t *testing.T, f files) {
			editFile(t, f.table, "applyment_id\tApplymentIDSeg\n", "applyment_id\tApplymentIDX\n")
		}, []string{`segment "applyment_id"`, "ApplymentIDSeg", "ApplymentIDX"}},
		{"two names swapped", func(t *testing.T, f files) {
			editFile(t, f.table, "policy-periods\tPolicyPeriods\n", "policy-periods\tPolicyPeriodsSeg\n")
			editFile(t, f.table, "policy_periods\tPolicyPeriodsSeg\n", "policy_periods\tPolicyPeriods\n")
		}, []string{`segment "policy-periods": PolicyPeriods`, `segment "policy_periods": PolicyPeriodsSeg`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := tempFiles(t)
			tc.edit(t, f)
			before, err := os.ReadFile(f.segments)
			require.NoError(t, err)
			for _, check := range []bool{true, false} {
				err := generate(catalog.All(), f, check)
				require.Error(t, err, "check=%v", check)
				for _, part := range tc.wantParts {
					assert.Contains(t, err.Error(), part, "check=%v", check)
				}
				assert.Contains(t, err.Error(), "renamed")
			}
			after, err := os.ReadFile(f.segments)
			require.NoError(t, err)
			assert.Equal(t, string(before), string(after), "nothing written")
		})
	}
}

// TestCheckFailsWhenStale: -check names what is out of date.
func TestCheckFailsWhenStale(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		eps       []catalog.Endpoint
		edit      func(t *testing.T, f files)
		wantParts []string
	}{
		{"new catalog row", withRow("v3/sub-merchants"), func(*testing.T, files) {},
			[]string{`names.tsv lacks segment "sub-merchants"`, "SubMerchantsSeg", `segments_gen.go lacks SubMerchantsSeg for segment "sub-merchants"`, "conformance_gen_test.go"}},
		{"method deleted by hand", catalog.All(), func(t *testing.T, f files) {
			editFile(t, f.segments, "func (c *Chain) ApplymentIDSeg() *Chain { return c.lit(\"applyment_id\") }\n", "")
		}, []string{`segments_gen.go lacks ApplymentIDSeg for segment "applyment_id"`}},
		{"doc comment edited by hand", catalog.All(), func(t *testing.T, f files) {
			editFile(t, f.segments, `// ApplymentIDSeg appends the segment "applyment_id".`, `// ApplymentIDSeg appends a segment.`)
		}, []string{"segments_gen.go differs"}},
		{"table unsorted", catalog.All(), func(t *testing.T, f files) {
			editFile(t, f.table, "applyment_id\tApplymentIDSeg\n", "")
			data, err := os.ReadFile(f.table)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(f.table, append(data, "applyment_id\tApplymentIDSeg\n"...), 0o644))
		}, []string{"names.tsv is not in the generator's form"}},
		{"table deleted", catalog.All(), func(t *testing.T, f files) {
			require.NoError(t, os.Remove(f.table))
		}, []string{`names.tsv lacks segment "abnormal-fund-processing"`, "... and 671 more"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := tempFiles(t)
			tc.edit(t, f)
			err := generate(tc.eps, f, true)
			require.Error(t, err)
			for _, part := range tc.wantParts {
				assert.Contains(t, err.Error(), part)
			}
			assert.Contains(t, err.Error(), "go generate ./...")
			require.NoError(t, generate(tc.eps, f, false))
			require.NoError(t, generate(tc.eps, f, true), "up to date after a normal run")
		})
	}
}

// TestTableKeepsRemovedSegment: when the catalog rows of a segment go, its
// table line and its method stay (code calling it still compiles), and the
// method's comment says no endpoint uses it.
func TestTableKeepsRemovedSegment(t *testing.T) {
	t.Parallel()
	var eps []catalog.Endpoint
	for _, e := range catalog.All() {
		if !strings.Contains(e.Path, "/zhejiang/") {
			eps = append(eps, e)
		}
	}
	require.Less(t, len(eps), len(catalog.All()))
	f := tempFiles(t)
	tableBefore, err := os.ReadFile(f.table)
	require.NoError(t, err)

	require.NoError(t, generate(eps, f, false))
	tableAfter, err := os.ReadFile(f.table)
	require.NoError(t, err)
	assert.Equal(t, string(tableBefore), string(tableAfter))
	segments, err := os.ReadFile(f.segments)
	require.NoError(t, err)
	assert.Contains(t, string(segments), "// Zhejiang appends the segment \"zhejiang\". No catalog endpoint uses it any more;\n"+
		"// it stays so that code calling it still compiles.\nfunc (c *Chain) Zhejiang() *Chain { return c.lit(\"zhejiang\") }\n")
	conformance, err := os.ReadFile(f.conformance)
	require.NoError(t, err)
	assert.NotContains(t, string(conformance), ".Zhejiang()")
	require.NoError(t, generate(eps, f, true))
}

func TestReadTableRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ table, want string }{
		{"a\tA\nb B\n", `:2: "b B": want a segment, a tab and a method name`},
		{"a\tA\tB\n", "want a segment, a tab and a method name"},
		{"a\tA\na\tB\n", `:2: segment "a" is already on line 1`},
		{"a\tA\nb\tA\n", ":2: method A is already on line 1"},
		{"a\tlower\n", `"lower" is not an exported Go name`},
		{"a\tA-B\n", `"A-B" is not an exported Go name`},
		{"{id}\tID\n", `"{id}" is not a literal path segment`},
	} {
		path := filepath.Join(t.TempDir(), "names.tsv")
		require.NoError(t, os.WriteFile(path, []byte(tc.table), 0o644))
		_, err := readTable(path)
		assert.ErrorContains(t, err, tc.want, tc.table)
	}
}

// TestTableNameReservedByChain: a recorded name that Chain itself now has
// is reported, not silently changed.
func TestTableNameReservedByChain(t *testing.T) {
	t.Parallel()
	f := tempFiles(t)
	editFile(t, f.table, "applyment_id\tApplymentIDSeg\n", "applyment_id\tApplymentIDSeg\nzzz-fake\tEndpoints\n")
	err := generate(catalog.All(), f, false)
	assert.ErrorContains(t, err, `segment "zzz-fake" is recorded as Endpoints, a method of Chain itself`)
}

// TestReservedAreChainMethods derives Chain's own exported methods from
// the module root's source (every non-test, non-generated file) and from
// the compiled type (its whole method set minus the generated methods):
// both must equal the generator's reserved list.
func TestReservedAreChainMethods(t *testing.T) {
	t.Parallel()
	var got []string
	paths, err := filepath.Glob("../../*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		require.NoError(t, err)
		if ast.IsGenerated(file) {
			continue
		}
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || !fn.Name.IsExported() {
				continue
			}
			recv := fn.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			if id, ok := recv.(*ast.Ident); ok && id.Name == "Chain" {
				got = append(got, fn.Name.Name)
			}
		}
	}
	want := make([]string, 0, len(reserved))
	for name := range reserved {
		want = append(want, name)
	}
	sort.Strings(got)
	sort.Strings(want)
	assert.Equal(t, want, got, "reserved must list Chain's hand-written methods")

	generated, err := readMethods(committed.segments)
	require.NoError(t, err)
	isGenerated := map[string]bool{}
	for _, name := range generated {
		isGenerated[name] = true
	}
	var compiled []string
	typ := reflect.TypeOf((*wechatpay.Chain)(nil))
	for i := range typ.NumMethod() {
		if name := typ.Method(i).Name; !isGenerated[name] {
			compiled = append(compiled, name)
		}
	}
	assert.Equal(t, want, compiled, "Chain's method set minus the generated methods")
}
