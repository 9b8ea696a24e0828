package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"muster/internal/testenv"
	"muster/server/store"
)

// msiexec runs msiexec in the prefix from a .cmd file (straight from bash,
// Wine's msiexec returns 2) and returns its exit code line and log.
func (w *winePrefix) msiexec(t *testing.T, args string) (string, string) {
	t.Helper()
	cmdFile := filepath.Join(w.dir, "drive_c", "msi.cmd")
	logFile := filepath.Join(w.dir, "drive_c", "msi.log")
	os.Remove(logFile)
	os.WriteFile(cmdFile, []byte("@msiexec "+args+` /l*v C:\msi.log`+"\r\n@echo rc=%ERRORLEVEL%\r\n"), 0o644)
	out, _ := w.run(t, "cmd", "/c", `C:\msi.cmd`)
	log, _ := os.ReadFile(logFile)
	// Under Wine the MSI's custom actions (agent path add) print to this
	// console too: the exit code is the last line.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), string(log)
}

// deviceOf waits, a bounded number of times, for the server to list a
// device activated for client.
func deviceOf(t *testing.T, data, client string) store.Device {
	t.Helper()
	return deviceWhere(t, data, "a device activated for "+client, func(d store.Device) bool { return d.Client == client })
}

// deviceWhere waits, a bounded number of times, for the server to list a
// device that ok accepts.
func deviceWhere(t *testing.T, data, what string, ok func(store.Device) bool) store.Device {
	t.Helper()
	for try := 0; try < 240; try++ {
		var devs []store.Device
		out, _ := muster(t, false, "inventory", "list", "-o", "json", "--data-dir", data)
		json.Unmarshal([]byte(out), &devs)
		for _, d := range devs {
			if ok(d) {
				return d
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("the server never listed %s", what)
	return store.Device{}
}

func clientCode(t *testing.T, data, name string) string {
	t.Helper()
	out, _ := muster(t, false, "-o", "json", "server", "client", "add", name, "--data-dir", data)
	var c store.Client
	if err := json.Unmarshal([]byte(out), &c); err != nil || len(c.Code) != 10 {
		t.Fatalf("client add %s: %q %v", name, out, err)
	}
	return c.Code
}

// TestWindowsMSIUnderWine installs the agent's MSI (make msi) in Wine:
// the service is registered and running in Wine's SCM and activates from
// the code in the MSI's name; the setup program (latest-win-exe) does the
// same from its own name, and /NOW brings the first inventory at once;
// the startup script installs a plain-named MSI with ACTIVATION=, and a
// newer MSI's script upgrades it; deactivate, remove and removeclean each
// do what they say.
func TestWindowsMSIUnderWine(t *testing.T) {
	testenv.Tool(t, "wixl")
	w := newWinePrefix(t)
	msi := filepath.Join(t.TempDir(), "muster-agent.msi")
	if out, err := exec.Command("../../scripts/build-msi.sh", msi).CombinedOutput(); err != nil {
		t.Fatalf("build MSI: %v\n%s", err, out)
	}
	data := t.TempDir()
	srv := startServer(t, data)
	acme, beta := clientCode(t, data, "ACME"), clientCode(t, data, "BETA")
	// The server serves it pre-named with a client's code, as the seed's
	// download links do.
	os.MkdirAll(filepath.Join(data, "installers"), 0o755)
	built, _ := os.ReadFile(msi)
	os.WriteFile(filepath.Join(data, "installers", "muster-agent.msi"), built, 0o644)
	resp, err := http.Get(srv.Base + "/download?id=latest-win-msi&code=" + acme)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	named := "muster-agent_" + acme + ".msi"
	if resp.StatusCode != 200 || !bytes.Equal(body, built) || !strings.Contains(resp.Header.Get("Content-Disposition"), named) {
		t.Fatalf("download latest-win-msi: %s %q, %d bytes", resp.Status, resp.Header.Get("Content-Disposition"), len(body))
	}
	os.WriteFile(filepath.Join(w.dir, "drive_c", named), body, 0o644)
	os.WriteFile(filepath.Join(w.dir, "drive_c", "muster-agent.msi"), body, 0o644)
	service := func() string { out, _ := w.run(t, "sc", "query", "muster-agent"); return out }
	state := filepath.Join(w.dir, "drive_c", "ProgramData", "muster", "agent", "state.json")

	// 1. The code from the file name.
	if rc, log := w.msiexec(t, `/i C:\`+named+` /qn SERVER=`+srv.URL); rc != "rc=0" {
		t.Fatalf("msiexec /i %s: %s\n%s", named, rc, log)
	}
	if s := service(); !strings.Contains(s, "RUNNING") {
		t.Fatalf("service after install: %s", s)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "drive_c", "Program Files", "muster", "muster.exe")); err != nil {
		t.Fatal(err)
	}
	first := deviceOf(t, data, "ACME")
	// The MSI put the agent's folder on the system PATH: a new prompt
	// finds muster.
	if out, err := w.run(t, "cmd", "/c", "muster --version"); err != nil || !strings.Contains(out, "muster version") {
		t.Errorf("muster from the PATH after install: %v %s", err, out)
	}
	envKey := `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment`

	// Uninstall: the service and the program go; the identity stays.
	if rc, log := w.msiexec(t, `/x C:\`+named+` /qn`); rc != "rc=0" {
		t.Fatalf("msiexec /x: %s\n%s", rc, log)
	}
	if s := service(); strings.Contains(s, "RUNNING") {
		t.Errorf("service after uninstall: %s", s)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "drive_c", "Program Files", "muster", "muster.exe")); err == nil {
		t.Error("muster.exe left after uninstall")
	}
	if _, err := os.Stat(state); err != nil {
		t.Errorf("uninstall removed the agent's identity: %v", err)
	}
	if out := w.must(t, "reg", "query", envKey, "/v", "Path"); strings.Contains(strings.ToLower(out), "muster") {
		t.Errorf("uninstall left the agent's folder on PATH: %s", out)
	}

	// 2. The setup program (latest-win-exe: muster.exe carrying the MSI),
	// named with a code and run with the OCS setup's switches: /NOW makes
	// the first inventory come at once, not hours later.
	os.RemoveAll(filepath.Dir(state))
	exeBytes, _ := os.ReadFile(w.exe)
	os.WriteFile(filepath.Join(data, "installers", "muster-agent-windows-amd64.exe"), exeBytes, 0o644)
	gamma := clientCode(t, data, "GAMMA")
	resp, err = http.Get(srv.Base + "/download?id=latest-win-exe&code=" + gamma)
	if err != nil {
		t.Fatal(err)
	}
	setupExe := "muster-agent_" + gamma + ".exe"
	f, _ := os.Create(filepath.Join(w.dir, "drive_c", setupExe))
	n, _ := io.Copy(f, resp.Body)
	f.Close()
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), setupExe) || n != int64(len(exeBytes)+len(built)+16) {
		t.Fatalf("download latest-win-exe: %s %q, %d bytes", resp.Status, resp.Header.Get("Content-Disposition"), n)
	}
	if out, err := w.run(t, `C:\`+setupExe, "/S", "/NOSPLASH", "/NOW", "/SERVER="+srv.URL); err != nil || !strings.Contains(out, "installed") {
		t.Fatalf("setup %s: %v\n%s", setupExe, err, out)
	}
	if s := service(); !strings.Contains(s, "RUNNING") {
		t.Fatalf("service after the setup program: %s", s)
	}
	deviceWhere(t, data, "GAMMA's device with its first inventory (/NOW)", func(d store.Device) bool {
		return d.Client == "GAMMA" && d.OSName != "" && !d.LastInventory.IsZero()
	})
	if rc, log := w.msiexec(t, `/x C:\muster-agent.msi /qn`); rc != "rc=0" {
		t.Fatalf("msiexec /x after the setup program: %s\n%s", rc, log)
	}

	// 3. A new install (identity wiped) with the ACTIVATION property, as
	// the startup script from gpo-script does it: the first run installs,
	// the second finds the service and does nothing.
	os.RemoveAll(filepath.Dir(state))
	muster(t, false, "agent", "gpo-script", "--server", srv.URL, "--code", beta, "--msi", `C:\muster-agent.msi`, "--out", filepath.Join(w.dir, "drive_c"))
	startupLog := filepath.Join(w.dir, "drive_c", "windows", "temp", "muster-agent-startup.log")
	if out, err := w.run(t, "cmd", "/c", `C:\muster-agent-startup.cmd`); err != nil {
		l, _ := os.ReadFile(startupLog)
		t.Fatalf("startup script, first run: %v\n%s\n%s", err, out, l)
	}
	second := deviceOf(t, data, "BETA")
	if s := service(); !strings.Contains(s, "RUNNING") {
		t.Fatalf("service after the startup script: %s", s)
	}
	msiLog := filepath.Join(w.dir, "drive_c", "windows", "temp", "muster-agent-msi.log")
	before, _ := os.Stat(msiLog)
	if out, err := w.run(t, "cmd", "/c", `C:\muster-agent-startup.cmd`); err != nil {
		t.Fatalf("startup script, second run: %v\n%s", err, out)
	}
	l, _ := os.ReadFile(startupLog)
	after, _ := os.Stat(msiLog)
	if before == nil || after == nil || !after.ModTime().Equal(before.ModTime()) || strings.Count(string(l), "nothing to do") != 1 || strings.Count(string(l), "installing") != 1 {
		t.Errorf("the second run was not a no-op; log:\n%s", l)
	}
	if second.DeviceID == first.DeviceID {
		t.Errorf("the wiped agent kept its DEVICEID %s", first.DeviceID)
	}

	// 4. A newer MSI: the startup script written for it upgrades the
	// agent in place (major upgrade: one product, the identity kept), then
	// does nothing at the next boot.
	msi2 := filepath.Join(w.dir, "drive_c", "muster-agent-0.2.0.msi")
	if out, err := exec.Command("../../scripts/build-msi.sh", msi2, "0.2.0").CombinedOutput(); err != nil {
		t.Fatalf("build MSI 0.2.0: %v\n%s", err, out)
	}
	muster(t, false, "agent", "gpo-script", "--server", srv.URL, "--msi", `C:\muster-agent-0.2.0.msi`, "--msi-version", "0.2.0", "--out", filepath.Join(w.dir, "drive_c"))
	if out, err := w.run(t, "cmd", "/c", `C:\muster-agent-startup.cmd`); err != nil {
		l, _ := os.ReadFile(startupLog)
		t.Fatalf("startup script 0.2.0: %v\n%s\n%s", err, out, l)
	}
	w.run(t, "cmd", "/c", `C:\muster-agent-startup.cmd`)
	l, _ = os.ReadFile(startupLog)
	if !strings.Contains(string(l), "upgrading the muster agent from 000.001.00000 to 000.002.00000") || !strings.Contains(string(l), "000.002.00000 is installed, not older than 000.002.00000: nothing to do") {
		t.Errorf("the 0.2.0 script did not upgrade once, then rest; log:\n%s", l)
	}
	if out := w.must(t, `C:\Program Files\muster\muster.exe`, "--version"); !strings.Contains(out, "0.2.0") {
		t.Errorf("after the upgrade: %s", out)
	}
	if s := service(); !strings.Contains(s, "RUNNING") {
		t.Fatalf("service after the upgrade: %s", s)
	}
	if out, _ := w.run(t, "reg", "query", `HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall`, "/reg:64"); strings.Count(out, "{") != 1 {
		t.Errorf("after the upgrade, not exactly one product: %s", out)
	}
	if st, _ := os.ReadFile(state); !strings.Contains(string(st), second.DeviceID) {
		t.Errorf("the upgrade lost the identity %s: %s", second.DeviceID, st)
	}

	// 5. deactivate, remove, removeclean from the installed agent.
	exe := `C:\Program Files\muster\muster.exe`
	if out := w.must(t, exe, "agent", "deactivate"); !strings.Contains(out, "deactivated") {
		t.Errorf("deactivate: %s", out)
	}
	var devs []store.Device
	out, _ := muster(t, false, "inventory", "list", "-o", "json", "--data-dir", data)
	json.Unmarshal([]byte(out), &devs)
	for _, d := range devs {
		if d.DeviceID == second.DeviceID && d.Client != "" {
			t.Errorf("still under %s after deactivate", d.Client)
		}
	}
	// remove uninstalls the MSI product (msiexec /x of the code the MSI
	// recorded): no program is listed any more, the service is gone.
	if out := w.must(t, exe, "agent", "remove"); !strings.Contains(out, "uninstalled (msiexec /x {") {
		t.Errorf("remove: %s", out)
	}
	if out, _ := w.run(t, "reg", "query", `HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall`, "/reg:64"); strings.Contains(out, "{") {
		t.Errorf("after remove, a product is still registered: %s", out)
	}
	if s := service(); strings.Contains(s, "RUNNING") {
		t.Errorf("service after remove: %s", s)
	}
	if _, err := os.Stat(state); err != nil {
		t.Errorf("remove lost the configuration: %v", err)
	}
	w.must(t, exe, "agent", "removeclean")
	if _, err := os.Stat(filepath.Dir(state)); !os.IsNotExist(err) {
		t.Errorf("removeclean left %s", filepath.Dir(state))
	}
}

// TestMSISigned: with MSI_SIGN_CERT and MSI_SIGN_KEY, make msi's script
// signs the MSI (osslsigncode), and the signature verifies against the
// certificate; a plain build carries none.
func TestMSISigned(t *testing.T) {
	testenv.Tool(t, "wixl")
	sign := testenv.Tool(t, "osslsigncode")
	openssl := testenv.Tool(t, "openssl")
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if out, err := exec.Command(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=muster test signing",
		"-addext", "extendedKeyUsage=codeSigning", "-keyout", key, "-out", cert).CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	msi := filepath.Join(dir, "signed.msi")
	build := exec.Command("../../scripts/build-msi.sh", msi)
	build.Env = append(os.Environ(), "MSI_SIGN_CERT="+cert, "MSI_SIGN_KEY="+key)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build signed MSI: %v\n%s", err, out)
	}
	out, err := exec.Command(sign, "verify", "-CAfile", cert, "-in", msi).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Signature verification: ok") {
		t.Fatalf("osslsigncode verify: %v\n%s", err, out)
	}
	plain := filepath.Join(dir, "plain.msi")
	if out, err := exec.Command("../../scripts/build-msi.sh", plain).CombinedOutput(); err != nil {
		t.Fatalf("build MSI: %v\n%s", err, out)
	}
	if out, err := exec.Command(sign, "verify", "-CAfile", cert, "-in", plain).CombinedOutput(); err == nil {
		t.Errorf("an unsigned MSI verified:\n%s", out)
	}
}
