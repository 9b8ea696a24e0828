package e2e

import (
	"encoding/json"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"muster/internal/pgtest"
	"muster/internal/testenv"
	"muster/inventories"
	"muster/server/store"
)

// runAgent runs the Debian OCS Unix agent with args and a private state dir.
func runAgent(t *testing.T, agent string, args ...string) string {
	t.Helper()
	cmd := exec.Command(agent, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ocsinventory-agent %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// localInventory runs the agent in --local mode and returns the .ocs file
// it wrote.
func localInventory(t *testing.T, agent string) string {
	t.Helper()
	out := t.TempDir()
	runAgent(t, agent, "--local="+out, "--basevardir="+t.TempDir())
	files, _ := filepath.Glob(filepath.Join(out, "*.ocs"))
	if len(files) != 1 {
		t.Fatalf("agent --local wrote %v", files)
	}
	return files[0]
}

func networkSet(ns []inventories.Network) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Description+"|"+n.MACAddr+"|"+n.IPAddress+"|"+n.IPMask+"|"+n.Status)
	}
	sort.Strings(out)
	return out
}

func softwareSet(ss []inventories.Software) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name+"|"+s.Version+"|"+s.Architecture)
	}
	sort.Strings(out)
	return out
}

// sameMachine compares what muster stored with the agent's own --local
// inventory of the same machine.
func sameMachine(t *testing.T, got *inventories.Inventory, want *inventories.Inventory) {
	t.Helper()
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	if got.Hardware.Name != want.Hardware.Name || got.Hardware.Name != host {
		t.Errorf("hostname: stored %q, agent %q, system %q", got.Hardware.Name, want.Hardware.Name, host)
	}
	if got.Hardware.OSName != want.Hardware.OSName || got.Hardware.OSName == "" {
		t.Errorf("OS: stored %q, agent %q", got.Hardware.OSName, want.Hardware.OSName)
	}
	if got.Hardware.Memory != want.Hardware.Memory || got.Hardware.MemoryMB() == 0 {
		t.Errorf("memory: stored %q, agent %q", got.Hardware.Memory, want.Hardware.Memory)
	}
	if len(got.CPUs) != len(want.CPUs) || got.LogicalCPUs() != want.LogicalCPUs() || got.LogicalCPUs() == 0 {
		t.Errorf("cpus: stored %d (%d logical), agent %d (%d logical)", len(got.CPUs), got.LogicalCPUs(), len(want.CPUs), want.LogicalCPUs())
	}
	if g, w := networkSet(got.Networks), networkSet(want.Networks); strings.Join(g, "\n") != strings.Join(w, "\n") || len(g) == 0 {
		t.Errorf("networks:\nstored %v\nagent  %v", g, w)
	}
	if g, w := softwareSet(got.Softwares), softwareSet(want.Softwares); strings.Join(g, "\n") != strings.Join(w, "\n") || len(g) < 10 {
		t.Errorf("software: stored %d entries, agent %d", len(g), len(w))
	}
}

var checksumRe = regexp.MustCompile(`msg="inventory stored".* checksum=(\d+)`)

// The real agent against the server on each store: embedded SQLite, and a
// real PostgreSQL the test starts.
func TestRealOCSAgentInventoriesIntoServer(t *testing.T) {
	agent := testenv.Tool(t, "ocsinventory-agent")
	t.Run("sqlite", func(t *testing.T) { realOCSAgentInventories(t, agent) })
	t.Run("postgres", func(t *testing.T) { realOCSAgentInventories(t, agent, "--database", pgtest.Start(t)) })
}

func realOCSAgentInventories(t *testing.T, agent string, db ...string) {
	data := t.TempDir()
	srv := startServer(t, data, db...)
	state := t.TempDir()
	for i := 0; i < 2; i++ {
		runAgent(t, agent, "--server", srv.URL, "--nolocal", "--basevardir="+state, "--force")
	}
	// The first run sends every CHECKSUM bit; the second, with the agent's
	// last_state from our accepted reply, only what changed.
	var sums []int
	for _, m := range checksumRe.FindAllStringSubmatch(srv.Stderr.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		sums = append(sums, n)
	}
	if len(sums) != 2 || bits.OnesCount(uint(sums[0])) < 15 || sums[1] == 0 || sums[1]&sums[0] != sums[1] || sums[1] >= sums[0] {
		t.Fatalf("checksums of the two runs: %v (want all bits, then a delta)\n%s", sums, srv.Stderr)
	}

	out, _ := muster(t, false, append([]string{"inventory", "list", "-o", "json", "--data-dir", data}, db...)...)
	var devs []store.Device
	if err := json.Unmarshal([]byte(out), &devs); err != nil {
		t.Fatalf("list -o json: %v\n%s", err, out)
	}
	if len(devs) != 1 || devs[0].UserAgent != "OCS-NG_unified_unix_agent_v2.10.0" {
		t.Fatalf("devices: %+v", devs)
	}
	var d store.DeviceDetail
	if code := srv.api(t, srv.Token, "/api/v1/devices/"+strconv.FormatInt(devs[0].ID, 10), &d); code != 200 {
		t.Fatalf("api: %d", code)
	}
	if d.DeviceID != devs[0].DeviceID || d.Name != devs[0].Name || d.CPUs != devs[0].CPUs {
		t.Fatalf("API and CLI disagree: %+v vs %+v", d.Device, devs[0])
	}
	local, err := inventories.ReadFile(localInventory(t, agent))
	if err != nil {
		t.Fatal(err)
	}
	sameMachine(t, d.Inventory, local.Inventory)
	if d.MemoryMB != local.Inventory.Hardware.MemoryMB() || d.CPUs != local.Inventory.LogicalCPUs() {
		t.Errorf("summary: memory %d cpus %d", d.MemoryMB, d.CPUs)
	}
}

func TestImportLocalOCSFile(t *testing.T) {
	agent := testenv.Tool(t, "ocsinventory-agent")
	file := localInventory(t, agent)
	want, err := inventories.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	// A bad file beside the good one: nothing is imported, the bad one named.
	bad := filepath.Join(t.TempDir(), "broken.ocs")
	os.WriteFile(bad, []byte("<REQUEST><QUERY>INVENTORY"), 0o644)
	_, errOut := muster(t, true, "inventory", "import", "--data-dir", data, file, bad)
	if !strings.Contains(errOut, bad) || !strings.Contains(errOut, "nothing imported") {
		t.Fatalf("bad import error does not name the file: %s", errOut)
	}
	if out, _ := muster(t, false, "inventory", "list", "-o", "json", "--data-dir", data); strings.TrimSpace(out) != "[]" {
		t.Fatalf("a failed import left devices behind: %s", out)
	}

	muster(t, false, "inventory", "import", "--data-dir", data, file)
	out, _ := muster(t, false, "inventory", "show", want.DeviceID, "-o", "json", "--data-dir", data)
	var d store.DeviceDetail
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if d.DeviceID != want.DeviceID {
		t.Fatalf("deviceid %q, want %q", d.DeviceID, want.DeviceID)
	}
	sameMachine(t, d.Inventory, want.Inventory)
	text, _ := muster(t, false, "inventory", "show", want.DeviceID, "--data-dir", data)
	if !strings.Contains(text, want.DeviceID) || !strings.Contains(text, want.Inventory.Hardware.Name) {
		t.Fatalf("text show:\n%s", text)
	}
}
