//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A package assigned to a dynamic group reaches a real muster agent whose
// inventory puts it in the group (it lists dpkg's bash), and runs there
// once; a group it is not in leaves it alone.
func TestDynamicGroupGetsAPackage(t *testing.T) {
	cert, key := selfSigned(t)
	data := t.TempDir()
	for _, o := range []string{"DOWNLOAD_FRAG_LATENCY", "DOWNLOAD_CYCLE_LATENCY", "DOWNLOAD_PERIOD_LATENCY"} {
		muster(t, false, "--data-dir", data, "server", "config", "set", o, "1")
	}
	srv := startServer(t, data, "--tls-cert", cert, "--tls-key", key)
	work := t.TempDir()
	agentArgs := []string{"-o", "json", "agent", "run", "--server", srv.URL, "--work-dir", work, "--ca", cert}
	muster(t, false, agentArgs...)

	out, _ := muster(t, false, "group", "add", "has-bash", "--query", `has software "bash" >= "1" and seen < 1`, "--data-dir", data)
	if !strings.Contains(out, "1 device now") {
		t.Fatalf("group has-bash: %s", out)
	}
	out, _ = muster(t, false, "group", "add", "old-bash", "--query", `has software "bash" < "1"`, "--data-dir", data)
	if !strings.Contains(out, "0 devices now") {
		t.Fatalf("group old-bash: %s", out)
	}
	// The same language finds devices without a group.
	if out, _ := muster(t, false, "inventory", "find", `lacks software "bash"`, "-o", "json", "--data-dir", data); strings.TrimSpace(out) != "[]" {
		t.Errorf("lacks bash: %s", out)
	}
	if out, _ := muster(t, false, "inventory", "find", `has software "bash"`, "--data-dir", data); strings.Count(out, "\n") != 2 {
		t.Errorf("has bash: %s", out)
	}
	_, e := muster(t, true, "group", "add", "broken", "--query", `has software bash`, "--data-dir", data)
	if !strings.Contains(e, "software's name in quotes") {
		t.Errorf("a broken query: %s", e)
	}

	marks := t.TempDir()
	mine := buildPackage(t, data, map[string]string{"run.sh": "#!/bin/sh\necho ran >> " + marks + "/has-bash\n"},
		"--name", "for-has-bash", "--action", "execute", "--command", "sh run.sh", "--frag-size", "1KiB")
	other := buildPackage(t, data, map[string]string{"run.sh": "#!/bin/sh\necho ran >> " + marks + "/old-bash\n"},
		"--name", "for-old-bash", "--action", "execute", "--command", "sh run.sh", "--frag-size", "1KiB")
	muster(t, false, "--data-dir", data, "package", "assign", mine.ID, "--group", "has-bash")
	muster(t, false, "--data-dir", data, "package", "assign", other.ID, "--group", "old-bash")
	muster(t, false, agentArgs...)
	if b, err := os.ReadFile(filepath.Join(marks, "has-bash")); err != nil || string(b) != "ran\n" {
		t.Errorf("the group's package ran %q (%v), want once", b, err)
	}
	if _, err := os.Stat(filepath.Join(marks, "old-bash")); err == nil {
		t.Error("the package of a group the device is not in ran")
	}
	if st := packageStates(t, data, mine.ID); len(st) != 1 || st[0].State != "SUCCESS" {
		t.Errorf("states of the group's package: %+v", st)
	}
}
