// Command vulnreport reads govulncheck's -format json stream on stdin,
// prints what it found, and decides whether CI fails.
//
// CI fails (exit 1) when our code reaches a vulnerable symbol in a module
// other than the standard library: go.mod can require a fixed version, so
// it is ours to fix. Reachable standard-library findings are printed but do
// not fail: which ones apply depends on the Go toolchain each user builds
// with, not on this repository. Findings our code does not reach are
// summarised. Exit 2 means the input is not a complete govulncheck scan.
//
// It is a program rather than a jq filter because CI needs nothing but Go.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// The subset of govulncheck's JSON protocol (v1.0.0) this report reads.
type message struct {
	Config  *config  `json:"config"`
	SBOM    *sbom    `json:"SBOM"`
	OSV     *osv     `json:"osv"`
	Finding *finding `json:"finding"`
}

type config struct {
	ProtocolVersion string `json:"protocol_version"`
	ScannerVersion  string `json:"scanner_version"`
	DB              string `json:"db"`
	GoVersion       string `json:"go_version"`
	ScanLevel       string `json:"scan_level"`
}

type sbom struct {
	Modules []struct {
		Path    string `json:"path"`
		Version string `json:"version"`
	} `json:"modules"`
}

type osv struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

// frame is one step of a trace; the first frame is the vulnerable one,
// the last (at symbol level) the call in our code.
type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
	Position *struct {
		Filename string `json:"filename"`
		Line     int    `json:"line"`
		Column   int    `json:"column"`
	} `json:"position"`
}

// How close our code comes to a vulnerability, as govulncheck reports it.
const (
	levelModule  = iota + 1 // a required module has it
	levelPackage            // a package we import has it
	levelSymbol             // our code calls it
)

func levelOf(f *finding) int {
	switch {
	case len(f.Trace) == 0:
		return 0
	case f.Trace[0].Function != "":
		return levelSymbol
	case f.Trace[0].Package != "":
		return levelPackage
	default:
		return levelModule
	}
}

// result is the most precise finding for one vulnerability in one module.
type result struct {
	id, module, version, fixed string
	level                      int
	trace                      []frame
}

func main() {
	code, err := run(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulnreport:", err)
	}
	os.Exit(code)
}

func run(in io.Reader, out io.Writer) (int, error) {
	var (
		cfg       *config
		sawSBOM   bool
		summaries = map[string]string{}
		results   = map[[2]string]*result{}
	)
	dec := json.NewDecoder(in)
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return 2, fmt.Errorf("reading govulncheck -format json output: %w", err)
		}
		switch {
		case m.Config != nil:
			cfg = m.Config
		case m.SBOM != nil:
			sawSBOM = true
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil:
			f := m.Finding
			lvl := levelOf(f)
			if lvl == 0 {
				return 2, fmt.Errorf("finding %s has no trace", f.OSV)
			}
			key := [2]string{f.OSV, f.Trace[0].Module}
			if r := results[key]; r == nil || lvl > r.level {
				results[key] = &result{id: f.OSV, module: f.Trace[0].Module, version: f.Trace[0].Version,
					fixed: f.FixedVersion, level: lvl, trace: f.Trace}
			}
		}
	}
	// Without these the scan did not run to the end: better to fail than
	// to report "nothing found".
	if cfg == nil || !sawSBOM {
		return 2, errors.New("the input has no config or SBOM message: govulncheck did not complete a scan")
	}
	if cfg.ScanLevel != "symbol" {
		return 2, fmt.Errorf("scan level is %q, expected \"symbol\": reachability cannot be judged", cfg.ScanLevel)
	}
	fmt.Fprintf(out, "govulncheck %s, %s, %s\n", cfg.ScannerVersion, cfg.GoVersion, cfg.DB)

	var list []*result
	for _, r := range results {
		list = append(list, r)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].module != list[j].module {
			return list[i].module < list[j].module
		}
		return list[i].id < list[j].id
	})
	count := func(stdlib bool, level int) (n int) {
		for _, r := range list {
			if (r.module == "stdlib") == stdlib && r.level == level {
				n++
			}
		}
		return n
	}
	show := func(stdlib bool, level int) {
		for _, r := range list {
			if (r.module == "stdlib") != stdlib || r.level != level {
				continue
			}
			fixed := "no fixed version yet"
			if r.fixed != "" {
				fixed = "fixed in " + r.fixed
			}
			fmt.Fprintf(out, "  %s  %s@%s (%s): %s\n", r.id, r.module, r.version, fixed, summaries[r.id])
			if level == levelSymbol {
				fmt.Fprintf(out, "      %s\n", describe(r.trace))
			}
		}
	}

	modules := count(false, levelSymbol)
	fmt.Fprintf(out, "\nModules we require, reached from our code: %d (these fail CI: require a fixed version in go.mod)\n", modules)
	show(false, levelSymbol)
	fmt.Fprintf(out, "\nStandard library of %s, reached from our code: %d (not failing: fixed by building with the latest Go patch release)\n",
		cfg.GoVersion, count(true, levelSymbol))
	show(true, levelSymbol)
	fmt.Fprintf(out, "\nNot reached from our code: modules %d imported + %d required only; standard library %d imported + %d not imported\n",
		count(false, levelPackage), count(false, levelModule), count(true, levelPackage), count(true, levelModule))
	show(false, levelPackage)
	show(false, levelModule)

	if modules > 0 {
		fmt.Fprintf(out, "\nFAIL: our code reaches %d known vulnerabilities in required modules\n", modules)
		return 1, nil
	}
	return 0, nil
}

// describe shows a symbol-level trace as "our call site: ours -> ... -> vulnerable".
func describe(trace []frame) string {
	names := make([]string, 0, len(trace))
	for i := len(trace) - 1; i >= 0; i-- {
		f := trace[i]
		name := shortPackage(f.Package) + "."
		if f.Receiver != "" {
			name += strings.TrimPrefix(f.Receiver, "*") + "."
		}
		names = append(names, name+f.Function)
	}
	site := ""
	if p := trace[len(trace)-1].Position; p != nil {
		site = fmt.Sprintf("%s:%d:%d: ", p.Filename, p.Line, p.Column)
	}
	return site + strings.Join(names, " -> ")
}

// shortPackage names a package the way Go code does: "net/http" is "http",
// "github.com/go-resty/resty/v2" is "resty".
func shortPackage(path string) string {
	elems := strings.Split(path, "/")
	last := elems[len(elems)-1]
	if len(elems) > 1 && len(last) > 1 && last[0] == 'v' && strings.Trim(last[1:], "0123456789") == "" {
		last = elems[len(elems)-2]
	}
	return last
}
