package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Cases from x/vulndb's osvutils TestLatestFixed, plus the reset leaking
// across ranges and a non-SEMVER range.
func TestLatestFixed(t *testing.T) {
	semverRange := func(events ...rangeEvent) osvRange { return osvRange{Type: "SEMVER", Events: events} }
	in := func(v string) rangeEvent { return rangeEvent{Introduced: v} }
	fix := func(v string) rangeEvent { return rangeEvent{Fixed: v} }
	tests := []struct {
		name   string
		ranges []osvRange
		want   string
	}{
		{"empty", nil, ""},
		{"no fix", []osvRange{semverRange(in("0"))}, ""},
		{"reintroduced after the fix", []osvRange{semverRange(in("0"), fix("1.0.4"), in("1.1.2"))}, ""},
		{"unsorted, reintroduced", []osvRange{semverRange(fix("1.0.4"), in("0"), in("1.1.2"), in("1.5.0"), fix("1.1.4"))}, ""},
		{"unsorted with fix", []osvRange{semverRange(fix("1.0.0"), in("0"), fix("0.1.0"), in("0.5.0"))}, "1.0.0"},
		{"newest over ranges", []osvRange{semverRange(in("0"), fix("0.1.0")), semverRange(in("0"), fix("0.2.0"))}, "0.2.0"},
		{"pseudo-versions", []osvRange{semverRange(in("0"), fix("0.0.0-20220824120805-abc"), in("0.0.0-20230824120805-efg"), fix("0.0.0-20240824120805-hij"))}, "0.0.0-20240824120805-hij"},
		{"release after its prerelease", []osvRange{semverRange(in("0"), fix("1.12.16"), in("1.13.0-0"), fix("1.13.7"))}, "1.13.7"},
		{"later range reintroduces", []osvRange{semverRange(in("0"), fix("1.2.0")), semverRange(in("1.3.0"))}, ""},
		{"later range fixes again", []osvRange{semverRange(in("0"), fix("1.2.0"), in("1.3.0")), semverRange(in("0"), fix("1.1.0"))}, "1.1.0"},
		{"ECOSYSTEM range ignored", []osvRange{{Type: "ECOSYSTEM", Events: []rangeEvent{fix("9.9.9")}}, semverRange(in("0"), fix("1.0.0"))}, "1.0.0"},
		{"invalid fixed ignored", []osvRange{semverRange(in("0"), fix("1.0.0"), fix("not-a-version"))}, "1.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := latestFixed(tt.ranges); got != tt.want {
				t.Errorf("latestFixed = %q, want %q", got, tt.want)
			}
		})
	}
}

// Expected orders from the Semantic Versioning spec and golang.org/x/mod/semver.
func TestSemverCompare(t *testing.T) {
	ascending := []string{
		"", "bad", "v1.2.3.4", "v01.2.3", // invalid: below all and equal to each other
		"v0.0.0-20220824120805-abc", "v0.0.0",
		"v1.0.0-0", "v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta",
		"v1.0.0-beta.2", "v1.0.0-beta.11", "v1.0.0-rc.1", "v1.0.0",
		"v1.2", "v1.2.9", "v1.2.10", "v1.10.0", "v2", "v10.0.0",
	}
	const invalid = 4
	for i, v := range ascending {
		for j, w := range ascending {
			want := 0
			switch {
			case i < invalid && j < invalid:
			case i < j:
				want = -1
			case i > j:
				want = +1
			}
			if got := semverCompare(v, w); got != want {
				t.Errorf("semverCompare(%q, %q) = %d, want %d", v, w, got, want)
			}
		}
	}
	equal := [][2]string{{"v1", "v1.0.0"}, {"v1.2", "v1.2.0"}, {"v1.2.3+build.5", "v1.2.3"}, {"v1.2.3-rc.1+b", "v1.2.3-rc.1"}}
	for _, p := range equal {
		if got := semverCompare(p[0], p[1]); got != 0 {
			t.Errorf("semverCompare(%q, %q) = %d, want 0", p[0], p[1], got)
		}
	}
}

// The layout and bytes indexdb writes: compact JSON, indexes sorted by id
// and path, one modules row per affected element (repeats kept, in file
// order), the newest modified in db.json, entries re-encoded field by field.
func TestBuild(t *testing.T) {
	osv := t.TempDir()
	writeFile(t, filepath.Join(osv, "GO-2024-0002.json"), `{
  "schema_version": "1.3.1", "id": "GO-2024-0002",
  "modified": "2024-05-06T07:08:09+02:00", "published": "2024-01-01T00:00:00.5Z",
  "details": "a <b> & c",
  "affected": [
    {"package": {"name": "example.com/b", "ecosystem": "Go"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}]}]},
    {"package": {"name": "example.com/a", "ecosystem": "Go"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}, {"introduced": "2.1.0"}]}]},
    {"package": {"name": "example.com/b", "ecosystem": "Go"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "2.0.0"}, {"fixed": "2.0.1"}]}],
     "ecosystem_specific": {"imports": [{"path": "example.com/b/x", "symbols": ["F"]}]}}
  ],
  "database_specific": {"url": "https://pkg.go.dev/vuln/GO-2024-0002", "review_status": "UNREVIEWED"}
}`)
	writeFile(t, filepath.Join(osv, "GO-2024-0001.json"), `{"id": "GO-2024-0001", "modified": "0001-01-01T00:00:00Z",
  "aliases": ["CVE-2024-0001"], "details": "", "affected": [{"package": {"name": "example.com/b", "ecosystem": "Go"}}]}`)
	writeFile(t, filepath.Join(osv, "index.json"), `not read`)
	writeFile(t, filepath.Join(osv, "README.md"), `not read`)

	out := filepath.Join(t.TempDir(), "db")
	if err := build(osv, out); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"index/db.json": `{"modified":"2024-05-06T05:08:09Z"}`,
		"index/modules.json": `[{"path":"example.com/a","vulns":[{"id":"GO-2024-0002","modified":"2024-05-06T05:08:09Z"}]},` +
			`{"path":"example.com/b","vulns":[{"id":"GO-2024-0001","modified":"0001-01-01T00:00:00Z"},` +
			`{"id":"GO-2024-0002","modified":"2024-05-06T05:08:09Z","fixed":"1.2.0"},` +
			`{"id":"GO-2024-0002","modified":"2024-05-06T05:08:09Z","fixed":"2.0.1"}]}]`,
		"index/vulns.json": `[{"id":"GO-2024-0001","modified":"0001-01-01T00:00:00Z","aliases":["CVE-2024-0001"]},` +
			`{"id":"GO-2024-0002","modified":"2024-05-06T05:08:09Z"}]`,
		"ID/GO-2024-0001.json": `{"id":"GO-2024-0001","modified":"0001-01-01T00:00:00Z","published":"0001-01-01T00:00:00Z",` +
			`"aliases":["CVE-2024-0001"],"details":"","affected":[{"package":{"name":"example.com/b","ecosystem":"Go"}}]}`,
		"ID/GO-2024-0002.json": `{"schema_version":"1.3.1","id":"GO-2024-0002","modified":"2024-05-06T05:08:09Z",` +
			`"published":"2024-01-01T00:00:00Z","details":"a \u003cb\u003e \u0026 c","affected":[` +
			`{"package":{"name":"example.com/b","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}]},` +
			`{"package":{"name":"example.com/a","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.0.0"},{"introduced":"2.1.0"}]}]},` +
			`{"package":{"name":"example.com/b","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"2.0.0"},{"fixed":"2.0.1"}]}],` +
			`"ecosystem_specific":{"imports":[{"path":"example.com/b/x","symbols":["F"]}]}}],` +
			`"database_specific":{"url":"https://pkg.go.dev/vuln/GO-2024-0002","review_status":"UNREVIEWED"}}`,
	}
	var got []string
	err := filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, path)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("files written: %q, want the %d in the table", got, len(want))
	}
	for name, w := range want {
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(name)))
		if err != nil {
			t.Error(err)
			continue
		}
		if string(b) != w {
			t.Errorf("%s:\n got %s\nwant %s", name, b, w)
		}
	}
}

func TestBuildRejects(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no entries", map[string]string{"README.md": "x"}, "holds no OSV .json files"},
		{"unknown field", map[string]string{"GO-1.json": `{"id":"GO-1","affected":[],"severity_sentinel_field":[]}`}, `unknown field "severity_sentinel_field"`},
		{"duplicate id", map[string]string{"a.json": `{"id":"GO-1"}`, "b.json": `{"id":"GO-1"}`}, `id "GO-1" is already used by`},
		{"no id", map[string]string{"GO-1.json": `{"details":"x"}`}, `no "id"`},
		{"bad time", map[string]string{"GO-1.json": `{"id":"GO-1","modified":"yesterday"}`}, `"yesterday"`},
		{"bad review status", map[string]string{"GO-1.json": `{"id":"GO-1","database_specific":{"review_status":"MAYBE"}}`}, `review_status "MAYBE"`},
		{"two objects", map[string]string{"GO-1.json": `{"id":"GO-1"} {"id":"GO-2"}`}, "data after the OSV entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			osv := t.TempDir()
			for name, body := range tt.files {
				writeFile(t, filepath.Join(osv, name), body)
			}
			out := filepath.Join(t.TempDir(), "db")
			err := build(osv, out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("build error = %v, want one containing %q", err, tt.want)
			}
			if _, err := os.Lstat(out); !os.IsNotExist(err) {
				t.Errorf("a rejected build left %s behind (stat: %v)", out, err)
			}
		})
	}

	t.Run("out exists", func(t *testing.T) {
		osv := t.TempDir()
		writeFile(t, filepath.Join(osv, "GO-1.json"), `{"id":"GO-1"}`)
		out := t.TempDir()
		err := build(osv, out)
		if err == nil || !strings.Contains(err.Error(), "exists: give a directory that does not exist yet") {
			t.Fatalf("build error = %v, want the existing -out refused", err)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("wrote into the existing -out: %v", entries)
		}
	})
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
