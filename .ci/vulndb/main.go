// Command vulndb turns the OSV files of golang.org/x/vulndb (its data/osv
// directory) into the database layout govulncheck reads with -db file://DIR:
//
//	DIR/index/db.json       {"modified": newest entry's modified}
//	DIR/index/modules.json  per module path: each entry's id, modified, fixed
//	DIR/index/vulns.json    per entry: id, modified, aliases
//	DIR/ID/<id>.json        the entry itself
//
// It writes the same bytes as x/vulndb's cmd/indexdb, which CI used before:
// indexdb pulls in grpc, OpenTelemetry and go-git and takes minutes to
// compile on a fresh machine; this needs only the standard library. It
// writes no .json.gz copies: govulncheck's file:// source reads only the
// .json files (the .gz ones are for serving over HTTP).
//
// Usage: go run ./.ci/vulndb -osv DIR -out DIR (-out must not exist yet).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

func main() {
	osvDir := flag.String("osv", "", "directory of OSV `files` (golang.org/x/vulndb's data/osv)")
	outDir := flag.String("out", "", "directory to create the database in; must not exist yet")
	flag.Parse()
	if *osvDir == "" || *outDir == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: vulndb -osv DIR -out DIR")
		os.Exit(2)
	}
	if err := build(*osvDir, *outDir); err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
}

// build reads every entry before writing anything, so a bad entry leaves no
// database behind.
func build(osvDir, outDir string) error {
	entries, err := load(osvDir)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return fmt.Errorf("%s holds no OSV .json files: expected golang.org/x/vulndb's data/osv", osvDir)
	}
	if _, err := os.Lstat(outDir); err == nil {
		return fmt.Errorf("-out %s exists: give a directory that does not exist yet", outDir)
	}
	return write(outDir, entries)
}

// load decodes the .json files under dir in the order indexdb does
// (filepath.WalkDir: lexical, subdirectories included, index.json skipped).
func load(dir string) ([]*entry, error) {
	var entries []*entry
	seen := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() == "index.json" || filepath.Ext(d.Name()) != ".json" {
			return nil
		}
		e, err := decode(path)
		if err != nil {
			return err
		}
		if e.ID == "" {
			return fmt.Errorf("%s: no \"id\": every OSV entry needs one", path)
		}
		if first, ok := seen[e.ID]; ok {
			return fmt.Errorf("%s: id %q is already used by %s: ids must be unique", path, e.ID, first)
		}
		seen[e.ID] = path
		entries = append(entries, e)
		return nil
	})
	return entries, err
}

// decode reads one entry. A field this program does not know is an error,
// not silently dropped: a newer x/vulndb may add one, and the database must
// then carry it as indexdb would (add it to entry).
func decode(path string) (*entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	e := new(entry)
	if err := dec.Decode(e); err != nil {
		return nil, fmt.Errorf("%s: not an OSV entry this program knows: %w", path, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: data after the OSV entry: expected one JSON object", path)
	}
	return e, nil
}

func write(outDir string, entries []*entry) error {
	var (
		db      dbMeta
		vulns   = make([]vulnMeta, 0, len(entries))
		modules = map[string]*moduleMeta{}
	)
	for _, e := range entries {
		if e.Modified.After(db.Modified.Time) {
			db.Modified = e.Modified
		}
		vulns = append(vulns, vulnMeta{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		// One row per affected element, repeats included, as indexdb writes.
		for _, a := range e.Affected {
			m := modules[a.Module.Path]
			if m == nil {
				m = &moduleMeta{Path: a.Module.Path, Vulns: []moduleVuln{}}
				modules[a.Module.Path] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: latestFixed(a.Ranges)})
		}
	}
	// Stable sorts, so rows with equal keys stay in reading order.
	slices.SortStableFunc(vulns, func(a, b vulnMeta) int { return strings.Compare(a.ID, b.ID) })
	mods := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		slices.SortStableFunc(m.Vulns, func(a, b moduleVuln) int { return strings.Compare(a.ID, b.ID) })
		mods = append(mods, m)
	}
	slices.SortFunc(mods, func(a, b *moduleMeta) int { return strings.Compare(a.Path, b.Path) })

	for _, dir := range []string{"index", "ID"} {
		if err := os.MkdirAll(filepath.Join(outDir, dir), 0o755); err != nil {
			return err
		}
	}
	files := []struct {
		name string
		v    any
	}{
		{"index/db.json", db},
		{"index/modules.json", mods},
		{"index/vulns.json", vulns},
	}
	for _, e := range entries {
		files = append(files, struct {
			name string
			v    any
		}{"ID/" + e.ID + ".json", e})
	}
	for _, f := range files {
		b, err := json.Marshal(f.v)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		if err := os.WriteFile(filepath.Join(outDir, filepath.FromSlash(f.name)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// latestFixed is the index's "fixed" for one affected module: the newest
// SEMVER fixed version, or "" when a range reintroduces the vulnerability
// after it. Ranges are read in order and the reset applies to the fixed
// version found so far, exactly as x/vulndb's osvutils.LatestFixed does.
func latestFixed(ranges []osvRange) string {
	var latest string
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && semverCompare("v"+latest, "v"+e.Fixed) < 0 {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && semverCompare("v"+latest, "v"+e.Introduced) < 0 {
				latest = ""
				break
			}
		}
	}
	return latest
}

// The index formats of x/vulndb's internal/database (db.json, modules.json,
// vulns.json).

type dbMeta struct {
	Modified osvTime `json:"modified"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type moduleVuln struct {
	ID       string  `json:"id"`
	Modified osvTime `json:"modified"`
	Fixed    string  `json:"fixed,omitempty"`
}

type vulnMeta struct {
	ID       string   `json:"id"`
	Modified osvTime  `json:"modified"`
	Aliases  []string `json:"aliases,omitempty"`
}

// entry and the types below mirror x/vulndb's internal/osv field for field
// (names, order, omitempty), so an entry is written back byte for byte as
// indexdb writes it.
type entry struct {
	SchemaVersion    string            `json:"schema_version,omitempty"`
	ID               string            `json:"id"`
	Modified         osvTime           `json:"modified,omitempty"`
	Published        osvTime           `json:"published,omitempty"`
	Withdrawn        *osvTime          `json:"withdrawn,omitempty"`
	Aliases          []string          `json:"aliases,omitempty"`
	Related          []string          `json:"related,omitempty"`
	Summary          string            `json:"summary,omitempty"`
	Details          string            `json:"details"`
	Affected         []affected        `json:"affected"`
	References       []reference       `json:"references,omitempty"`
	Credits          []credit          `json:"credits,omitempty"`
	DatabaseSpecific *databaseSpecific `json:"database_specific,omitempty"`
}

type affected struct {
	Module            module             `json:"package"`
	Ranges            []osvRange         `json:"ranges,omitempty"`
	EcosystemSpecific *ecosystemSpecific `json:"ecosystem_specific,omitempty"`
}

type module struct {
	Path      string `json:"name"`
	Ecosystem string `json:"ecosystem"`
}

type osvRange struct {
	Type   string       `json:"type"`
	Events []rangeEvent `json:"events"`
}

type rangeEvent struct {
	Introduced string `json:"introduced,omitempty"`
	Fixed      string `json:"fixed,omitempty"`
}

type ecosystemSpecific struct {
	Packages     []pkg      `json:"imports,omitempty"`
	CustomRanges []osvRange `json:"custom_ranges,omitempty"`
}

type pkg struct {
	Path    string   `json:"path"`
	GOOS    []string `json:"goos,omitempty"`
	GOARCH  []string `json:"goarch,omitempty"`
	Symbols []string `json:"symbols,omitempty"`
}

type reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type credit struct {
	Name string `json:"name"`
}

type databaseSpecific struct {
	URL          string       `json:"url,omitempty"`
	ReviewStatus reviewStatus `json:"review_status,omitempty"`
}

// reviewStatus is "", "UNREVIEWED" or "REVIEWED"; "" is omitted on output.
type reviewStatus string

func (r *reviewStatus) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	switch s {
	case "", "UNREVIEWED", "REVIEWED":
		*r = reviewStatus(s)
		return nil
	}
	return fmt.Errorf("review_status %q: expected UNREVIEWED or REVIEWED", s)
}

// osvTime reads any RFC 3339 time and writes it in UTC to the second,
// ending in "Z" (the zero time too: the OSV files of x/vulndb carry
// "0001-01-01T00:00:00Z" as modified; vuln.go.dev sets it from history).
type osvTime struct {
	time.Time
}

func (t osvTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.UTC().Format(time.RFC3339))
}

func (t *osvTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return err
	}
	t.Time = v.UTC()
	return nil
}
