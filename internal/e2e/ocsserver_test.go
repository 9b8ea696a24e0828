//go:build linux

package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"muster/internal/testenv"
)

const ocsURL = "http://127.0.0.1:8081/ocsinventory"

// ocsReference makes sure the real OCS server (Debian's 2.8.1, on
// 127.0.0.1:8081 only) is up, standing it up with the project's script if
// needed (root: it installs Apache, mod_perl and MariaDB).
func ocsReference(t *testing.T) {
	t.Helper()
	c := &http.Client{Timeout: 3 * time.Second}
	if resp, err := c.Get(ocsURL); err == nil {
		resp.Body.Close()
		return
	}
	testenv.Root(t)
	script, _ := filepath.Abs("../../scripts/ocs-reference.sh")
	if out, err := exec.Command(script, "up").CombinedOutput(); err != nil {
		testenv.Missing(t, "the OCS reference server could not be stood up: "+err.Error()+"\n"+string(out))
	}
}

func mysqlQuery(t *testing.T, q string) []string {
	t.Helper()
	out, err := exec.Command("mysql", "-N", "-B", "ocsweb", "-e", q).Output()
	if err != nil {
		t.Fatalf("mysql %q: %v", q, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\t")
}

func TestAgentIntoRealOCSServer(t *testing.T) {
	ocsReference(t)
	work := t.TempDir()
	// A PROLOG first (the real server must accept our agent), then forced.
	for _, args := range [][]string{{"agent", "run"}, {"agent", "run", "--force"}} {
		muster(t, false, append(args, "--server", ocsURL, "--work-dir", work)...)
	}
	b, _ := os.ReadFile(filepath.Join(work, "state.json"))
	var st struct{ DeviceID string }
	json.Unmarshal(b, &st)
	row := mysqlQuery(t, "SELECT NAME, OSNAME, MEMORY, USERAGENT FROM hardware WHERE DEVICEID='"+st.DeviceID+"'")
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	if len(row) != 4 || row[0] != host || !strings.Contains(row[1], "Linux") || row[2] == "0" {
		t.Fatalf("hardware row %q", row)
	}
	count := func(table string) int {
		r := mysqlQuery(t, "SELECT COUNT(*) FROM "+table+" x JOIN hardware h ON h.ID = x.HARDWARE_ID WHERE h.DEVICEID='"+st.DeviceID+"'")
		n, _ := strconv.Atoi(r[0])
		return n
	}
	if n := count("networks"); n == 0 {
		t.Errorf("no networks stored by OCS")
	}
	if n := count("cpus"); n == 0 {
		t.Errorf("no CPUs stored by OCS")
	}
	dpkg, err := exec.Command("dpkg-query", "-W", "-f", "${db:Status-Abbrev}\n").Output()
	if err == nil {
		want := strings.Count(string(dpkg), "ii ")
		if n := count("software"); n < want-5 || n == 0 {
			t.Errorf("OCS stored %d software rows, the system has %d packages", n, want)
		}
	}
}
