// Package testenv holds what muster's tests share about their environment:
// finding the external tools they run against, and failing rather than
// skipping when one is missing in CI (CI=true), so a skip never hides a
// missing dependency.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// CI reports whether the tests run in CI, where every tool must be present.
func CI() bool { return os.Getenv("CI") == "true" }

// Tool returns the path of the named program. When it is missing the test
// is skipped, or fails under CI=true.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" is not installed (make test installs it)")
	}
	return p
}

// Root skips (or fails under CI=true) a test that needs root.
func Root(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root")
	}
}

// Missing reports an unmet requirement: a failure in CI, a skip elsewhere.
func Missing(t testing.TB, why string) {
	t.Helper()
	if CI() {
		t.Fatalf("CI=true and %s", why)
	}
	t.Skip(why)
}
