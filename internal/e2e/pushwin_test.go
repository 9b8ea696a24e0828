//go:build linux

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"muster/internal/testbed"
	"muster/push"
)

// The stand-in Windows installer. The emulated host runs it as msiexec
// would run the .msi, with the arguments msiexec passes on; it counts its
// runs, refuses once with 1618 where busy-once says so (nothing installed),
// fails with 1603 and a verbose log where fail-1603 says so.
const winInstaller = `n=$(cat runs 2>/dev/null || echo 0); echo $((n+1)) > runs
if [ -f busy-once ]; then rm -f busy-once; echo 1618 > "$WINRMEMU_EXITCODE_FILE"; exit 0; fi
if [ -f fail-1603 ]; then
  printf 'MSI (s): Note: 1: 1722\r\nMSI (s): Product: muster agent -- Installation failed.\r\n' > "$WINRMEMU_MSI_LOG"
  echo 1603 > "$WINRMEMU_EXITCODE_FILE"; exit 0
fi
n=$(cat installs 2>/dev/null || echo 0); echo $((n+1)) > installs
echo "args=$* user=${WINRMEMU_USER:-admin}" > installed
`

// TestPushWindowsFleet pushes an .msi to 50 emulated hosts of the windows
// profile (NTLM with sealed messages over HTTP, muster's PowerShell scripts
// modelled): 40 fine, 3 with the wrong password, 3 down, 2 failing with
// 1603, 2 busy once with 1618. Copy mode, then pull mode from a web server
// in the operator's namespace. Every outcome is right, and every installer
// installed exactly once.
func TestPushWindowsFleet(t *testing.T) {
	pb := newPushBed(t, 0, 50)
	pb.winExec = "windows"
	var lines []string
	role := map[string]string{}
	for i, h := range pb.winHosts {
		lines = append(lines, "winrm://"+h.IP)
		pass := winPassword
		switch {
		case i >= 48:
			role[h.IP] = "busy"
		case i >= 46:
			role[h.IP] = "1603"
		case i >= 43:
			role[h.IP] = "down"
		case i >= 40:
			role[h.IP] = "badpass"
			pass = "another-password"
		default:
			role[h.IP] = "ok"
		}
		pb.startEmulator(t, h, pass)
		if role[h.IP] == "down" {
			if err := pb.SetDown(h, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	msi := filepath.Join(pb.dir, "muster-agent_ABCDEFGHIJ.msi")
	os.WriteFile(msi, []byte(winInstaller), 0o644)
	sum := sha256.Sum256([]byte(winInstaller))
	ln, err := pb.ListenOperator("tcp", "10.77.2.254:0")
	if err != nil {
		t.Fatal(err)
	}
	web := &http.Server{Handler: http.FileServer(http.Dir(pb.dir))}
	go web.Serve(ln)
	defer web.Close()
	list := writeList(t, pb.dir, lines)
	pw := filepath.Join(pb.dir, "password")
	os.WriteFile(pw, []byte(winPassword+"\n"), 0o600)

	// psexec's form: bare names (WinRM for an .msi), -u -p, the installer
	// and its arguments after the list.
	bare := make([]string, len(pb.winHosts))
	for i, h := range pb.winHosts {
		bare[i] = h.IP
	}
	bareList := filepath.Join(pb.dir, "BARE.TXT")
	os.WriteFile(bareList, []byte(strings.Join(bare, "\n")+"\n"), 0o644)
	// --preset msi without --installer pushes the MSI the server serves
	// (DATA-DIR/installers/muster-agent.msi), with SERVER= from --server.
	dataDir := filepath.Join(pb.dir, "data")
	os.MkdirAll(filepath.Join(dataDir, "installers"), 0o755)
	os.WriteFile(filepath.Join(dataDir, "installers", "muster-agent.msi"), []byte(winInstaller), 0o644)
	for _, mode := range []string{"copy", "pull", "psexec", "server-msi"} {
		t.Run(mode, func(t *testing.T) {
			for _, h := range pb.winHosts {
				d := pb.winDir[h.IP]
				for _, f := range []string{"runs", "installs", "installed"} {
					os.Remove(filepath.Join(d, f))
				}
				switch role[h.IP] {
				case "busy":
					os.WriteFile(filepath.Join(d, "busy-once"), nil, 0o644)
				case "1603":
					os.WriteFile(filepath.Join(d, "fail-1603"), nil, 0o644)
				}
			}
			resp := filepath.Join(pb.dir, "response-"+mode+".csv")
			args := []string{musterBin, "push", "-f", list, "-u", testbed.SSHUser, "--password-file", pw,
				"--installer", msi, "--preset", "msi", "--transport", "winrm", "-n", "20", "--retries", "2", "--retry-wait", "300ms",
				"--handshake-timeout", "3s", "--timeout", "60s", "--response", resp}
			switch mode {
			case "pull":
				args = append(args, "--mode", "pull", "--url", "http://"+ln.Addr().String()+"/"+filepath.Base(msi), "--sha256", hex.EncodeToString(sum[:]))
			case "server-msi":
				args = []string{musterBin, "push", "-f", list, "-u", testbed.SSHUser, "--password-file", pw, "--data-dir", dataDir,
					"--preset", "msi", "--activation", "ABCDEFGHIJ", "--server", "http://muster.example/ocsinventory", "--transport", "winrm",
					"-n", "20", "--retries", "2", "--retry-wait", "300ms", "--handshake-timeout", "3s", "--timeout", "60s", "--response", resp}
			case "psexec":
				args = []string{musterBin, "push", "@" + bareList, "-u", testbed.SSHUser, "-p", winPassword, msi, "ACTIVATION=ABCDEFGHIJ",
					"-n", "20", "--retries", "2", "--retry-wait", "300ms", "--handshake-timeout", "3s", "--response", resp}
			}
			out, err := pb.Command(args...).CombinedOutput()
			if err == nil {
				t.Fatalf("push exited 0 although hosts failed:\n%s", out)
			}
			by := records(t, resp)
			if len(by) != 50 {
				t.Fatalf("%d hosts in the response file, want 50:\n%s", len(by), tailLines(string(out), 20))
			}
			for _, h := range pb.winHosts {
				r := by[h.IP]
				d := pb.winDir[h.IP]
				installs, _ := os.ReadFile(filepath.Join(d, "installs"))
				runs, _ := os.ReadFile(filepath.Join(d, "runs"))
				n, ran := strings.TrimSpace(string(installs)), strings.TrimSpace(string(runs))
				var want push.Outcome
				wantInstalls, wantRuns := "", ""
				switch role[h.IP] {
				case "ok":
					want, wantInstalls, wantRuns = push.OK, "1", "1"
				case "busy":
					// Refused once (nothing installed), retried, installed.
					want, wantInstalls, wantRuns = push.OK, "1", "2"
				case "1603":
					want, wantRuns = push.InstallFailed, "1"
					if r.ExitCode == nil || *r.ExitCode != 1603 || !strings.Contains(r.Error, "Installation failed") {
						t.Errorf("%s: exit %v, error %q: want 1603 with the msiexec log's tail", h.IP, r.ExitCode, r.Error)
					}
				case "badpass":
					want = push.AuthFailed
					if r.Attempts != 1 {
						t.Errorf("%s: an auth failure was retried (%d attempts)", h.IP, r.Attempts)
					}
				case "down":
					want = push.Unreachable
					if r.Attempts != 3 {
						t.Errorf("%s: %d attempts, want 1 + 2 retries", h.IP, r.Attempts)
					}
				}
				if r.Outcome != want {
					t.Errorf("%s (%s): %s (%s), want %s", h.IP, role[h.IP], r.Outcome, r.Error, want)
				}
				if n != wantInstalls || ran != wantRuns {
					t.Errorf("%s (%s): installed %q times in %q runs, want %q in %q", h.IP, role[h.IP], n, ran, wantInstalls, wantRuns)
				}
				if want == push.OK {
					got, _ := os.ReadFile(filepath.Join(d, "installed"))
					if !strings.Contains(string(got), "args=ACTIVATION=ABCDEFGHIJ") {
						t.Errorf("%s: installed with %q", h.IP, got)
					}
					if mode == "server-msi" && !strings.Contains(string(got), "SERVER=http://muster.example/ocsinventory") {
						t.Errorf("%s: the server's MSI was installed without SERVER=: %q", h.IP, got)
					}
				}
			}
			t.Logf("%s mode: %s", mode, tailLines(string(out), 3))
		})
	}
	// The hosts logged on with NTLM and sealed every message: no Basic, no
	// plaintext SOAP reached any of them. The hosts with another password
	// logged their refusals, which shows the log is written.
	for _, h := range pb.winHosts {
		log, _ := os.ReadFile(filepath.Join(pb.winDir[h.IP], "..", "emu-"+h.IP+".log"))
		if strings.Contains(string(log), "basic-refused") || strings.Contains(string(log), "unencrypted-refused") || strings.Contains(string(log), "bad-seal") {
			t.Errorf("%s refused a request: %s", h.IP, log)
		}
		if role[h.IP] == "badpass" && !strings.Contains(string(log), "auth-refused") {
			t.Errorf("%s: no refusal logged for the wrong password: %q", h.IP, log)
		}
	}
}

// The installer of the kill test: it says it started, then waits to be
// released before it installs.
const blockingInstaller = `touch started
i=0; while [ ! -e release ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
n=$(cat installs 2>/dev/null || echo 0); echo $((n+1)) > installs
`

// TestPushWindowsKilledThenResume: muster is SIGKILLed while installers
// run on Windows hosts; they finish without it. --resume reads their
// markers and finishes them from there; no installer runs twice.
func TestPushWindowsKilledThenResume(t *testing.T) {
	pb := newPushBed(t, 0, 12)
	pb.winExec = "windows"
	var lines []string
	for _, h := range pb.winHosts {
		lines = append(lines, "winrm://"+h.IP)
		pb.startEmulator(t, h, winPassword)
	}
	list := writeList(t, pb.dir, lines)
	msi := filepath.Join(pb.dir, "muster-agent_ABCDEFGHIJ.msi")
	os.WriteFile(msi, []byte(blockingInstaller), 0o644)
	pw := filepath.Join(pb.dir, "password")
	os.WriteFile(pw, []byte(winPassword+"\n"), 0o600)
	resp := filepath.Join(pb.dir, "response.csv")
	push1 := func(n string, extra ...string) *exec.Cmd {
		return pb.Command(append([]string{musterBin, "push", "-f", list, "-u", testbed.SSHUser, "--password-file", pw,
			"--installer", msi, "--preset", "msi", "--transport", "winrm", "-n", n, "--handshake-timeout", "5s"}, extra...)...)
	}
	cmd := push1("4", "--response", resp)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The event: four installers are running. Then the pusher dies.
	running := func() []string {
		var ips []string
		for _, h := range pb.winHosts {
			if _, err := os.Stat(filepath.Join(pb.winDir[h.IP], "started")); err == nil {
				ips = append(ips, h.IP)
			}
		}
		return ips
	}
	for i := 0; i < 3000 && len(running()) < 4; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	inFlight := running()
	cmd.Process.Kill()
	cmd.Wait()
	if len(inFlight) != 4 {
		t.Fatalf("%d installers running at the kill, want 4", len(inFlight))
	}
	// They finish on their own.
	for _, h := range pb.winHosts {
		os.WriteFile(filepath.Join(pb.winDir[h.IP], "release"), nil, 0o644)
	}
	for _, ip := range inFlight {
		for i := 0; i < 3000; i++ {
			if _, err := os.Stat(filepath.Join(pb.winDir[ip], "installs")); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	out, err := push1("6", "--resume", resp).CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	by := records(t, resp)
	fromMarker := 0
	for _, h := range pb.winHosts {
		r := by[h.IP]
		if r.Outcome != push.OK {
			t.Errorf("%s: %s (%s)", h.IP, r.Outcome, r.Error)
		}
		if strings.Contains(r.Error, "read from the host's marker") {
			fromMarker++
		}
		n, _ := os.ReadFile(filepath.Join(pb.winDir[h.IP], "installs"))
		if strings.TrimSpace(string(n)) != "1" {
			t.Errorf("%s: installed %q times", h.IP, n)
		}
	}
	if fromMarker != len(inFlight) {
		t.Errorf("%d hosts finished from their marker, want the %d in flight at the kill", fromMarker, len(inFlight))
	}
}
