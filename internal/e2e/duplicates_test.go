//go:build linux

package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"muster/internal/testenv"
	"muster/server"
	"muster/server/store"
)

// The two stock agents on this machine (OCS's and FusionInventory's) make
// two records of it; muster inventory duplicates lists them, --merge
// folds them into the newest, and with AUTO_DUPLICATE_LVL the server does
// it at the second agent's inventory.
func TestTwoAgentsOneMachine(t *testing.T) {
	ocs := testenv.Tool(t, "ocsinventory-agent")
	fusion := testenv.Tool(t, "fusioninventory-agent")
	devices := func(data string) []store.Device {
		out, _ := muster(t, false, "inventory", "list", "-o", "json", "--data-dir", data)
		var d []store.Device
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("inventory list: %v\n%s", err, out)
		}
		return d
	}
	both := func(srv *serverProc) {
		runAgent(t, ocs, "--server", srv.URL, "--nolocal", "--basevardir="+t.TempDir(), "--force")
		if out, err := exec.Command(fusion, "--server", srv.URL, "--tasks=inventory", "--force", "--no-httpd").CombinedOutput(); err != nil {
			t.Fatalf("fusioninventory-agent: %v\n%s", err, out)
		}
	}

	t.Run("on demand", func(t *testing.T) {
		data := t.TempDir()
		srv := startServer(t, data)
		both(srv)
		if d := devices(data); len(d) != 2 {
			t.Fatalf("two agents made %d records: %+v", len(d), d)
		}
		out, _ := muster(t, false, "inventory", "duplicates", "-o", "json", "--data-dir", data)
		var groups []server.DuplicateGroup
		if err := json.Unmarshal([]byte(out), &groups); err != nil || len(groups) != 1 || len(groups[0].Others) != 1 {
			t.Fatalf("duplicates: %v\n%s", err, out)
		}
		keep := groups[0].Keep.DeviceID
		muster(t, false, "inventory", "duplicates", "--merge", "--data-dir", data)
		if d := devices(data); len(d) != 1 || d[0].DeviceID != keep {
			t.Fatalf("after --merge: %+v, want only %s", d, keep)
		}
		audit, _ := muster(t, false, "server", "user", "audit", "-o", "json", "--data-dir", data)
		if !strings.Contains(audit, `"action": "merge `+groups[0].Others[0].DeviceID+` into `+keep+`"`) {
			t.Errorf("the merge is not in the audit log:\n%s", audit)
		}
	})
	t.Run("automatically", func(t *testing.T) {
		data := t.TempDir()
		muster(t, false, "server", "config", "set", "AUTO_DUPLICATE_LVL", "5", "--data-dir", data)
		srv := startServer(t, data)
		both(srv)
		if d := devices(data); len(d) != 1 {
			t.Fatalf("with AUTO_DUPLICATE_LVL=5: %d records: %+v", len(d), d)
		}
		if !strings.Contains(srv.Stderr.String(), "duplicate merged") {
			t.Errorf("no merge logged:\n%s", srv.Stderr)
		}
	})
}
