package wechatpay_test

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRepositoryHygiene: what a company needs to adopt the repository. The
// licence is there and named in the README; build output and files the
// tools write are ignored, and nothing built or huge is tracked. It reads
// git's view, so it skips outside a git checkout (a module download).
func TestRepositoryHygiene(t *testing.T) {
	t.Parallel()
	license, err := os.ReadFile("LICENSE")
	require.NoError(t, err, "LICENSE: without one no company may use the library")
	assert.True(t, strings.HasPrefix(strings.TrimSpace(string(license)), "Apache License\n"), "LICENSE is the Apache License 2.0")
	assert.Contains(t, string(license), "Version 2.0, January 2004")
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), "## License\n\nApache License 2.0")

	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git command: cannot read what the repository tracks")
	}
	if out, err := exec.Command(git, "rev-parse", "--is-inside-work-tree").Output(); err != nil || strings.TrimSpace(string(out)) != "true" {
		t.Skip("not a git checkout: nothing tracked to check")
	}
	// What go build, go test and the tools write must be ignored.
	written := []string{"wechatpay", "cmd/wechatpay/wechatpay", "_examples/quickstart/quickstart", "_examples/certificates/certificates", "_examples/papay/papay", "papay",
		"wechatpay.test", "cpu.prof", "coverage.out", "tradebill-2026-11-27.csv", "bill-20261127.csv",
		"wechatpay_5157F09EFDC096DE15EBE81A47057A7232F1B8E1.pem", "apiclient_key.pem", "apiclient_cert.p12",
		".tradebill-2026-11-27.csv.2718281828.part"} // DownloadBill's temporary file, left if the process is killed
	for _, path := range written {
		err := exec.Command(git, "check-ignore", "-q", "--no-index", path).Run()
		assert.NoError(t, err, "%s is not ignored: add it to .gitignore", path)
	}

	out, err := exec.Command(git, "ls-files", "-z").Output()
	require.NoError(t, err)
	for _, path := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		info, err := os.Stat(path)
		if err != nil {
			continue // deleted in the working tree
		}
		assert.Less(t, info.Size(), int64(3<<20), "%s is tracked and larger than 3 MiB: build output or data that does not belong in git", path)
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		head := make([]byte, 4)
		n, _ := f.Read(head)
		f.Close()
		assert.False(t, bytes.Equal(head[:n], []byte("\x7fELF")), "%s is a tracked executable: untrack it and list it in .gitignore", path)
	}
}

// TestCIRunsEveryExample: .ci/run runs every example under _examples (each
// checks its own results and exits non-zero when one is wrong), so that an
// example cannot rot unseen.
func TestCIRunsEveryExample(t *testing.T) {
	t.Parallel()
	script, err := os.ReadFile(".ci/run")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^for example in ([^;]+); do\n\s*go run "\./_examples/\$example"`).FindSubmatch(script)
	require.NotNil(t, m, ".ci/run has no loop that runs the examples")
	run := strings.Fields(string(m[1]))
	sort.Strings(run)
	entries, err := os.ReadDir("_examples")
	require.NoError(t, err)
	var examples []string
	for _, e := range entries {
		if e.IsDir() {
			examples = append(examples, e.Name())
		}
	}
	assert.Equal(t, examples, run, ".ci/run's list of examples to run")
}
