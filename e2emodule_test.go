package wechatpay_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBrowserTestModule: the browser test (e2e/) is a module of its own,
// so that its driver never enters the library's dependencies; CI checks
// that module as it checks this one, and runs the test with CI set, where
// a missing Chromium fails it instead of skipping it. The screenshots it
// saves are committed, the binaries it builds are not.
func TestBrowserTestModule(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.NotContains(t, string(b), "github.com/chromedp/", "%s: the browser driver belongs to e2e/go.mod only", file)
	}
	mod, err := os.ReadFile("e2e/go.mod")
	require.NoError(t, err)
	for _, line := range []string{
		"module github.com/wechatpay-chain/wechatpay/e2e\n",
		"replace github.com/wechatpay-chain/wechatpay => ../\n", // the library as it is in this tree
		"github.com/chromedp/chromedp v",
	} {
		assert.Contains(t, string(mod), line, "e2e/go.mod")
	}

	script, err := os.ReadFile(".ci/run")
	require.NoError(t, err)
	ci := string(script)
	passed := strings.Index(ci, `echo "CI passed"`)
	require.GreaterOrEqual(t, passed, 0, ".ci/run has no final line")
	for _, cmd := range []string{
		"(cd e2e && go mod tidy -diff)",
		"(cd e2e && go mod verify)",
		"(cd e2e && go vet ./...)",
		"apt-get install -y $packages",
		"(cd e2e && CI=true go test -count=1 ./...)",
		"packages=chromium",
		"fonts-wqy-microhei",
	} {
		at := strings.Index(ci, cmd)
		if assert.GreaterOrEqual(t, at, 0, ".ci/run does not run %s", cmd) {
			assert.Less(t, at, passed, ".ci/run runs %s after saying CI passed", cmd)
		}
	}
	assert.Less(t, strings.Index(ci, "apt-get install -y $packages"), strings.Index(ci, "(cd e2e && CI=true go test"),
		".ci/run installs Chromium before the browser test")

	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git command: cannot read what the repository ignores")
	}
	if out, err := exec.Command(git, "rev-parse", "--is-inside-work-tree").Output(); err != nil || strings.TrimSpace(string(out)) != "true" {
		t.Skip("not a git checkout: nothing ignored to check")
	}
	ignored := func(path string) bool {
		return exec.Command(git, "check-ignore", "-q", "--no-index", path).Run() == nil
	}
	for _, path := range []string{"e2e/wechatpay", "e2e/e2e.test"} {
		assert.True(t, ignored(path), "%s is not ignored: add it to .gitignore", path)
	}
	for _, path := range []string{"e2e/screenshots/dashboard.png", "e2e/screenshots/pay.png"} {
		assert.False(t, ignored(path), "%s is ignored: the screenshots are committed as the record", path)
	}
}
