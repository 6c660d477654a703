package e2e

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// missingChromium is what the browser test says when it finds no browser.
const missingChromium = "chromium not found: install Debian's chromium package, or set CHROME_PATH"

// chromiumCandidates are tried in order when CHROME_PATH is not set: the
// path Debian's chromium package installs, then the usual names on PATH.
var chromiumCandidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}

// locateChromium decides how the browser test starts: with the browser at
// path, or not at all (skip says why outside CI; fail says why in CI,
// where a missing browser would otherwise turn the test into a silent
// skip, and when CHROME_PATH names no executable). getenv and lookPath are
// os.Getenv and exec.LookPath, passed in so that every case is tested.
func locateChromium(getenv func(string) string, lookPath func(string) (string, error)) (path, skip, fail string) {
	if p := getenv("CHROME_PATH"); p != "" {
		found, err := lookPath(p)
		if err != nil {
			return "", "", "CHROME_PATH=" + p + " is not an executable (" + err.Error() + "): set it to a Chromium or Chrome binary, or unset it"
		}
		return found, "", ""
	}
	for _, name := range chromiumCandidates {
		if found, err := lookPath(name); err == nil {
			return found, "", ""
		}
	}
	if inCI(getenv) {
		return "", "", missingChromium + " (CI is set, so the browser test may not skip)"
	}
	return "", missingChromium, ""
}

// inCI reports whether CI is set to anything but a false value ("false",
// "0"): CI=true is what CI services and .ci/run set.
func inCI(getenv func(string) string) bool {
	v := getenv("CI")
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// chromium returns the browser's path, or skips or fails the test as
// locateChromium decides.
func chromium(t *testing.T) string {
	t.Helper()
	path, skip, fail := locateChromium(os.Getenv, exec.LookPath)
	switch {
	case fail != "":
		t.Fatal(fail)
	case skip != "":
		t.Skip(skip)
	}
	return path
}

// TestLocateChromium: the browser test skips, and says why, only outside
// CI; in CI a missing browser fails it, and a CHROME_PATH that names no
// executable fails it anywhere.
func TestLocateChromium(t *testing.T) {
	t.Parallel()
	errNotFound := errors.New("executable file not found in $PATH")
	only := func(names ...string) func(string) (string, error) {
		return func(name string) (string, error) {
			for _, n := range names {
				if n == name {
					return "/found/" + name, nil
				}
			}
			return "", errNotFound
		}
	}
	tests := []struct {
		name             string
		env              map[string]string
		installed        []string
		path, skip, fail string
	}{
		{name: "Debian's package", installed: []string{"/usr/bin/chromium", "google-chrome"}, path: "/found//usr/bin/chromium"},
		{name: "chromium-browser on PATH", installed: []string{"chromium-browser", "google-chrome"}, path: "/found/chromium-browser"},
		{name: "google-chrome on PATH", installed: []string{"google-chrome"}, path: "/found/google-chrome"},
		{name: "CHROME_PATH first", env: map[string]string{"CHROME_PATH": "/opt/chrome/chrome"}, installed: []string{"/opt/chrome/chrome", "/usr/bin/chromium"}, path: "/found//opt/chrome/chrome"},
		{name: "CHROME_PATH names nothing", env: map[string]string{"CHROME_PATH": "/opt/nowhere/chrome"}, installed: []string{"/usr/bin/chromium"},
			fail: "CHROME_PATH=/opt/nowhere/chrome is not an executable (executable file not found in $PATH): set it to a Chromium or Chrome binary, or unset it"},
		{name: "none, outside CI", skip: missingChromium},
		{name: "none, CI=false", env: map[string]string{"CI": "false"}, skip: missingChromium},
		{name: "none, CI=0", env: map[string]string{"CI": "0"}, skip: missingChromium},
		{name: "none, in CI", env: map[string]string{"CI": "true"}, fail: missingChromium + " (CI is set, so the browser test may not skip)"},
		{name: "none, CI=1", env: map[string]string{"CI": "1"}, fail: missingChromium + " (CI is set, so the browser test may not skip)"},
		{name: "none, CI=yes", env: map[string]string{"CI": "yes"}, fail: missingChromium + " (CI is set, so the browser test may not skip)"},
		{name: "found, in CI", env: map[string]string{"CI": "true"}, installed: []string{"chromium"}, path: "/found/chromium"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string { return tt.env[k] }
			path, skip, fail := locateChromium(getenv, only(tt.installed...))
			if path != tt.path || skip != tt.skip || fail != tt.fail {
				t.Errorf("locateChromium = (%q, %q, %q), want (%q, %q, %q)", path, skip, fail, tt.path, tt.skip, tt.fail)
			}
		})
	}
}
