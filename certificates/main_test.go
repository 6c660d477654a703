package certificates_test

import (
	"log/slog"
	"os"
	"testing"
)

// TestMain sends what the handlers log to slog.Default nowhere, so that the
// refusals the tests provoke on purpose do not read as failures in the
// output; a test that checks the default logger sets its own.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}
