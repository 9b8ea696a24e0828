package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"muster/agent"
	"muster/server/store"
)

func TestAgentActivationAndInventory(t *testing.T) {
	data := t.TempDir()
	srv := startServer(t, data)
	out, _ := muster(t, false, "-o", "json", "server", "client", "add", "ACME", "--data-dir", data)
	var client store.Client
	if err := json.Unmarshal([]byte(out), &client); err != nil || len(client.Code) != 10 {
		t.Fatalf("client add: %q %v", out, err)
	}
	work := t.TempDir()
	ag := func(wantFail bool, args ...string) (string, string) {
		return muster(t, wantFail, append(append([]string{"agent"}, args...), "--server", srv.URL, "--work-dir", work)...)
	}

	// A code of the wrong shape is refused before the server is asked; an
	// unknown one by the server; both say their code and its meaning.
	_, e := ag(true, "activate", "ABC")
	if !strings.Contains(e, "ACT-1") || !strings.Contains(e, "10 letters") {
		t.Errorf("wrong shape: %s", e)
	}
	_, e = ag(true, "activate", "ZZZZZZZZZZ")
	if !strings.Contains(e, "ACT-2") || !strings.Contains(e, "invalid activation code") {
		t.Errorf("unknown code: %s", e)
	}
	o, _ := ag(false, "activate", client.Code)
	if !strings.Contains(o, "activated for client ACME") {
		t.Errorf("activate: %s", o)
	}

	// Inventory: the device shows under its client; a second run is a delta.
	ag(false, "run")
	ag(false, "run")
	var devs []store.Device
	out, _ = muster(t, false, "inventory", "list", "-o", "json", "--data-dir", data)
	json.Unmarshal([]byte(out), &devs)
	if len(devs) != 1 || devs[0].Client != "ACME" || devs[0].Name == "" || devs[0].CPUs == 0 {
		t.Fatalf("devices: %+v", devs)
	}
	sums := checksumRe.FindAllStringSubmatch(srv.Stderr.String(), -1)
	if len(sums) != 2 || sums[0][1] == sums[1][1] {
		t.Errorf("checksums of two runs: %v", sums)
	}

	// --local output imports to the same device.
	dir := t.TempDir()
	ag(false, "run", "--local", dir)
	files, _ := filepath.Glob(filepath.Join(dir, "*.ocs"))
	if len(files) != 1 || !strings.HasPrefix(filepath.Base(files[0]), devs[0].DeviceID) {
		t.Fatalf("local files %v", files)
	}
	out, _ = muster(t, false, "inventory", "import", "-o", "json", "--data-dir", data, files[0])
	if !strings.Contains(out, `"created": false`) {
		t.Errorf("import of the agent's .ocs: %s", out)
	}

	// The pre-named installer: the agent binary, named with the code.
	resp, err := http.Get(srv.Base + "/download?id=latest-linux-amd64&code=" + client.Code)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	self, _ := os.ReadFile(musterBin)
	if resp.StatusCode != 200 || !bytes.Equal(body, self) ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "muster-agent_"+client.Code) {
		t.Errorf("download: %s %q, %d bytes", resp.Status, resp.Header.Get("Content-Disposition"), len(body))
	}
	if r, _ := http.Get(srv.Base + "/download?id=latest-linux-amd64&code=ZZZZZZZZZZ"); r.StatusCode != 404 {
		t.Errorf("download with an unknown code: %s", r.Status)
	}

	// A new DEVICEID (--uid, as after a reinstall): the agent sends
	// OLD_DEVICEID and the server folds the old record into the new one,
	// so the machine is listed once, still under its client.
	ag(false, "run", "--uid")
	out, _ = muster(t, false, "inventory", "list", "-o", "json", "--data-dir", data)
	var renewed []store.Device
	json.Unmarshal([]byte(out), &renewed)
	if len(renewed) != 1 || renewed[0].DeviceID == devs[0].DeviceID || renewed[0].Client != "ACME" || !renewed[0].FirstSeen.Equal(devs[0].FirstSeen) {
		t.Fatalf("after a new DEVICEID: %+v (was %s)", renewed, devs[0].DeviceID)
	}
	if !strings.Contains(srv.Stderr.String(), "device merged (OLD_DEVICEID)") {
		t.Errorf("no merge logged:\n%s", srv.Stderr)
	}
	if st, _ := agent.LoadState(work); st.OldDeviceID != "" || st.DeviceID != renewed[0].DeviceID {
		t.Errorf("agent state after the merge: %+v", st)
	}

	// Deactivate: off the client on the server and in the agent's state.
	ag(false, "deactivate")
	out, _ = muster(t, false, "inventory", "list", "-o", "json", "--data-dir", data)
	var after []store.Device // fresh: an empty client is left out of the JSON
	json.Unmarshal([]byte(out), &after)
	st, _ := agent.LoadState(work)
	if len(after) != 1 || after[0].Client != "" || st.Client != "" || st.Activation != "" {
		t.Errorf("after deactivate: server %+v, agent %q", after, st.Client)
	}

	// Server down: a clear failure, no activation recorded.
	srv.Kill()
	_, e = ag(true, "activate", client.Code)
	if !strings.Contains(e, "cannot reach") {
		t.Errorf("server down: %s", e)
	}
	if st, _ := agent.LoadState(work); st.Client != "" {
		t.Errorf("activation recorded with the server down")
	}

	// remove keeps the identity and settings; removeclean wipes them.
	before, _ := agent.LoadState(work)
	o, _ = muster(t, false, "agent", "remove", "--work-dir", work)
	if after, err := agent.LoadState(work); err != nil || after.DeviceID != before.DeviceID || after.DeviceID == "" {
		t.Errorf("remove changed the identity: %v %q", err, o)
	}
	muster(t, false, "agent", "removeclean", "--work-dir", work)
	if _, err := os.Stat(work); !os.IsNotExist(err) {
		t.Errorf("removeclean left %s", work)
	}
}
