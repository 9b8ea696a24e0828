//go:build linux

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"muster/internal/testbed"
	"muster/push"
)

// The test installer: it records that it ran (with its server and
// activation code) in its working directory — the host's own — and fails
// with 1603 where a fail-1603 file says so (as a Windows installer would:
// through the emulator's Windows exit code file).
const installerScript = `#!/bin/sh
n=$(cat runs 2>/dev/null || echo 0); echo $((n+1)) > runs
if [ -f fail-1603 ]; then
  echo "MSI (s): Product: agent -- Installation failed." >&2
  [ -n "$WINRMEMU_EXITCODE_FILE" ] && echo 1603 > "$WINRMEMU_EXITCODE_FILE"
  exit 67
fi
[ -n "$PUSH_E2E_SLOW" ] && sleep "$PUSH_E2E_SLOW"
echo "server=$MUSTER_SERVER code=$MUSTER_ACTIVATION" > installed
echo "agent installed"
`

type pushBed struct {
	*testbed.Bed
	sshHosts, winHosts []testbed.Host
	winDir             map[string]string // WinRM host IP → its emulator's directory
	winPass            map[string]string
	dir                string
	// winExec is how the emulated Windows hosts run commands: "sh" (a
	// POSIX host behind WinRM) or "windows" (muster's PowerShell scripts).
	winExec string
}

const winPassword = "W1nRM-pass"

// startEmulator runs the WinRM emulator inside host h with a password.
func (pb *pushBed) startEmulator(t *testing.T, h testbed.Host, password string) {
	t.Helper()
	d := pb.winDir[h.IP]
	if _, err := pb.Start(h, filepath.Join(d, "..", "emu-"+h.IP+".log"), winrmemuBin, "-listen", h.IP+":5985",
		"-user", testbed.SSHUser, "-password", password, "-dir", d, "-exec", pb.winExec); err != nil {
		t.Fatal(err)
	}
	pb.winPass[h.IP] = password
	ok := false
	for i := 0; i < 100 && !ok; i++ {
		c, err := pb.DialContext(context.Background(), "tcp", net.JoinHostPort(h.IP, "5985"))
		if err == nil {
			c.Close()
			ok = true
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !ok {
		t.Fatalf("emulator on %s did not start", h.IP)
	}
}

// newPushBed makes nSSH hosts with sshd and nWin hosts running the WinRM
// emulator, on two LANs.
func newPushBed(t *testing.T, nSSH, nWin int) *pushBed {
	t.Helper()
	requireBed(t)
	b := bed(t,
		testbed.LAN{Prefix: netip.MustParsePrefix("10.77.1.0/24"), Hosts: nSSH, SSH: true},
		testbed.LAN{Prefix: netip.MustParsePrefix("10.77.2.0/24"), Hosts: nWin})
	pb := &pushBed{Bed: b, sshHosts: b.LANHosts(0), winHosts: b.LANHosts(1), winDir: map[string]string{}, winPass: map[string]string{}, dir: t.TempDir(), winExec: "sh"}
	for _, h := range pb.winHosts {
		d := filepath.Join(pb.dir, "win", h.IP)
		os.MkdirAll(d, 0o755)
		pb.winDir[h.IP] = d
	}
	return pb
}

// hostDir is where the installer runs on a host: the test user's home
// (SSH) or the emulator's directory (WinRM).
func (pb *pushBed) hostDir(ip string) string {
	if d, ok := pb.winDir[ip]; ok {
		return d
	}
	for _, h := range pb.sshHosts {
		if h.IP == ip {
			return h.Home
		}
	}
	return ""
}

func (pb *pushBed) installer(t *testing.T) string {
	t.Helper()
	p := filepath.Join(pb.dir, "muster-agent_ABCDEFGHIJ.sh")
	if err := os.WriteFile(p, []byte(installerScript), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// pushCmd returns `muster push` in the operator namespace with the bed's
// credentials.
func (pb *pushBed) pushCmd(t *testing.T, args ...string) *exec.Cmd {
	pw := filepath.Join(pb.dir, "password")
	os.WriteFile(pw, []byte(winPassword+"\n"), 0o600)
	base := []string{musterBin, "push", "--user", testbed.SSHUser, "--password-file", pw, "--key", pb.SSHKeyPath(),
		"--known-hosts", filepath.Join(pb.dir, "known_hosts"), "--winrm-shell", "sh", "--installer", pb.installer(t),
		"--preset", "sh", "--server", "http://10.77.1.254:8080/ocsinventory", "--handshake-timeout", "2s", "--timeout", "60s",
		// The bed's hosts share one file system: a relative directory is
		// each host's own (the login's home, the emulator's directory).
		"--remote-dir", "muster-push"}
	return pb.Command(append(base, args...)...)
}

func writeList(t *testing.T, dir string, lines []string) string {
	t.Helper()
	p := filepath.Join(dir, "ALL.TXT")
	os.WriteFile(p, []byte("# e2e host list\n"+strings.Join(lines, "\n")+"\n"), 0o644)
	return p
}

func records(t *testing.T, path string) map[string]push.Record {
	t.Helper()
	recs, err := push.ReadResponse(path)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]push.Record{}
	for _, r := range recs {
		h, err := push.ParseHost(r.Host)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := by[h.Name]; dup {
			t.Errorf("%s has two records in %s", h.Name, path)
		}
		by[h.Name] = r
	}
	return by
}

func TestPushFleet(t *testing.T) {
	// 50 SSH hosts and 50 WinRM hosts, plus 10 down (5 of each), 5 with
	// the wrong password and 5 whose installer fails with 1603 (WinRM):
	// 120 hosts.
	pb := newPushBed(t, 55, 65)
	var lines []string
	var sshDown, winDown, winBadPass, win1603 []testbed.Host
	for i, h := range pb.sshHosts {
		lines = append(lines, "ssh://"+testbed.SSHUser+"@"+h.IP)
		if i >= 50 {
			sshDown = append(sshDown, h)
		}
	}
	for i, h := range pb.winHosts {
		lines = append(lines, "winrm://"+h.IP)
		pass := winPassword
		switch {
		case i >= 60:
			winBadPass = append(winBadPass, h)
			pass = "another-password"
		case i >= 55:
			winDown = append(winDown, h)
		case i >= 50:
			win1603 = append(win1603, h)
			os.WriteFile(filepath.Join(pb.winDir[h.IP], "fail-1603"), nil, 0o644)
		}
		pb.startEmulator(t, h, pass)
	}
	down := append(append([]testbed.Host{}, sshDown...), winDown...)
	for _, h := range down {
		if err := pb.SetDown(h, true); err != nil {
			t.Fatal(err)
		}
	}
	// Two down hosts of each kind come back while the pusher retries: each
	// as soon as the pusher has reported its first failed attempt (an event,
	// not a clock), so the retry finds it up however busy the machine is.
	comeBack := []testbed.Host{sshDown[0], sshDown[1], winDown[0], winDown[1]}
	list := writeList(t, pb.dir, lines)
	resp := filepath.Join(pb.dir, "response.csv")
	cmd := pb.pushCmd(t, "-f", list, "-n", "20", "--retries", "3", "--retry-wait", "1s", "--response", resp)
	out, err, back := runWatching(t, cmd, comeBack, func(h testbed.Host) {
		if err := pb.SetDown(h, false); err != nil {
			t.Errorf("bring %s back: %v", h.IP, err)
		}
	})
	if err == nil {
		t.Fatalf("push exited 0 although hosts failed:\n%s", out)
	}
	if len(back) != len(comeBack) {
		t.Fatalf("only %d of the %d hosts meant to come back failed a first attempt:\n%s", len(back), len(comeBack), tailLines(out, 30))
	}
	t.Logf("push output (tail):\n%s", tailLines(out, 12))
	recs, rerr := push.ReadResponse(resp)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if len(recs) != 120 {
		t.Fatalf("%d rows in the response file, want 120", len(recs))
	}
	by := records(t, resp)
	want := map[string]push.Outcome{}
	for _, h := range append(pb.sshHosts, pb.winHosts...) {
		want[h.IP] = push.OK
	}
	for _, h := range down {
		want[h.IP] = push.Unreachable
	}
	for _, h := range comeBack {
		want[h.IP] = push.OK
	}
	for _, h := range winBadPass {
		want[h.IP] = push.AuthFailed
	}
	for _, h := range win1603 {
		want[h.IP] = push.InstallFailed
	}
	for ip, o := range want {
		r := by[ip]
		if r.Outcome != o {
			t.Errorf("%s: %s (%s), want %s", ip, r.Outcome, r.Error, o)
			continue
		}
		installed, _ := os.ReadFile(filepath.Join(pb.hostDir(ip), "installed"))
		switch o {
		case push.OK:
			// The agent landed and ran on the host, with its settings.
			if !strings.Contains(string(installed), "code=ABCDEFGHIJ") || !strings.Contains(string(installed), "server=http://10.77.1.254:8080/ocsinventory") {
				t.Errorf("%s is ok but the agent is not installed there: %q", ip, installed)
			}
		case push.InstallFailed:
			if r.ExitCode == nil || *r.ExitCode != 1603 || !strings.Contains(r.Error, "Installation failed") {
				t.Errorf("%s: exit %v, error %q", ip, r.ExitCode, r.Error)
			}
		case push.Unreachable:
			if r.Attempts != 4 {
				t.Errorf("%s: %d attempts, want 1 + 3 retries", ip, r.Attempts)
			}
		case push.AuthFailed:
			if r.Attempts != 1 {
				t.Errorf("%s: auth failure retried (%d attempts)", ip, r.Attempts)
			}
		}
		if o != push.OK && len(installed) > 0 {
			t.Errorf("%s is %s but the agent was installed", ip, o)
		}
	}
	for _, h := range comeBack {
		if by[h.IP].Attempts < 2 {
			t.Errorf("%s came back but was ok at attempt %d", h.IP, by[h.IP].Attempts)
		}
	}

	// Fix the credentials on the 5 hosts, then push to what was not ok.
	for _, h := range winBadPass {
		stopHost(t, pb, h)
		pb.startEmulator(t, h, winPassword)
	}
	resp2 := filepath.Join(pb.dir, "retry.jsonl")
	out2, err := pb.pushCmd(t, "--retry-from", resp, "-n", "20", "--retries", "0", "--response", resp2).CombinedOutput()
	if err == nil {
		t.Fatalf("retry exited 0 although the 1603 and down hosts still fail:\n%s", out2)
	}
	by2 := records(t, resp2)
	notOK := 0
	for _, o := range want {
		if o != push.OK {
			notOK++
		}
	}
	if len(by2) != notOK {
		t.Errorf("--retry-from pushed to %d hosts, want the %d that were not ok", len(by2), notOK)
	}
	for _, h := range winBadPass {
		if by2[h.IP].Outcome != push.OK {
			t.Errorf("%s after fixing the password: %s (%s)", h.IP, by2[h.IP].Outcome, by2[h.IP].Error)
		}
	}
	for ip := range by2 {
		if want[ip] == push.OK {
			t.Errorf("--retry-from touched %s, which was ok", ip)
		}
	}
}

// runWatching runs a push and, the first time its progress reports a
// failed first attempt for one of hosts, calls onFirstFail for that host.
// It returns the whole output, the command's error, and the hosts seen.
func runWatching(t *testing.T, cmd *exec.Cmd, hosts []testbed.Host, onFirstFail func(testbed.Host)) (string, error, []testbed.Host) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var all strings.Builder
	var seen []testbed.Host
	done := map[string]bool{}
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		all.WriteString(line + "\n")
		for _, h := range hosts {
			// "push: ssh://user@10.77.1.51: attempt 1 failed (…)"
			if !done[h.IP] && strings.Contains(line, h.IP+": attempt 1 failed") {
				done[h.IP] = true
				seen = append(seen, h)
				onFirstFail(h)
			}
		}
	}
	pr.Close()
	return all.String(), cmd.Wait(), seen
}

// stopHost kills every process of a bed host and waits until they are
// gone (bounded), so a restarted service is the only one on its port.
func stopHost(t *testing.T, pb *pushBed, h testbed.Host) {
	t.Helper()
	for i := 0; i < 500; i++ {
		ps := pids(t, pb, h)
		if len(ps) == 0 {
			return
		}
		for _, pid := range ps {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the processes of %s did not end", h.IP)
}

// pids lists the processes of a bed host.
func pids(t *testing.T, pb *pushBed, h testbed.Host) []int {
	out, _ := exec.Command("ip", "netns", "pids", h.Netns).Output()
	var ps []int
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		var p int
		if _, err := fmt.Sscan(sc.Text(), &p); err == nil {
			ps = append(ps, p)
		}
	}
	return ps
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestPushSIGKILLThenResume(t *testing.T) {
	pb := newPushBed(t, 20, 0)
	var lines []string
	for _, h := range pb.sshHosts {
		lines = append(lines, "ssh://"+testbed.SSHUser+"@"+h.IP)
	}
	list := writeList(t, pb.dir, lines)
	resp := filepath.Join(pb.dir, "response.csv")
	cmd := pb.pushCmd(t, "-f", list, "-n", "2", "--response", resp, "--command", "PUSH_E2E_SLOW=0.3 "+push.Presets["sh"], "--preset", "")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the pusher (SIGKILL: no chance to clean up) once 6 hosts are
	// recorded.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if recs, err := push.ReadResponse(resp); err == nil && len(recs) >= 6 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	first := records(t, resp)
	if len(first) < 6 || len(first) >= 20 {
		t.Fatalf("%d hosts recorded before the kill", len(first))
	}
	out, err := pb.pushCmd(t, "-f", list, "-n", "4", "--resume", resp, "--command", "PUSH_E2E_SLOW=0.3 "+push.Presets["sh"], "--preset", "").CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	all := records(t, resp)
	if len(all) != 20 {
		t.Fatalf("after --resume: %d hosts recorded, want 20", len(all))
	}
	for _, h := range pb.sshHosts {
		runs, _ := os.ReadFile(filepath.Join(h.Home, "runs"))
		n := strings.TrimSpace(string(runs))
		if all[h.IP].Outcome != push.OK {
			t.Errorf("%s: %s", h.IP, all[h.IP].Outcome)
		}
		// No installer ran twice: hosts finished before the kill are not
		// touched again, and one in flight is finished from its marker.
		if n != "1" {
			_, done := first[h.IP]
			t.Errorf("%s (finished before the kill: %v): its installer ran %s times", h.IP, done, n)
		}
		if n == "" || n == "0" {
			t.Errorf("%s: installer never ran", h.IP)
		}
	}
}

// TestPushSSHLikeOpenSSH: without --key, muster logs in as OpenSSH would,
// with ~/.ssh/id_ed25519, and with the keys of the agent at $SSH_AUTH_SOCK.
func TestPushSSHLikeOpenSSH(t *testing.T) {
	testenvTool(t, "ssh-agent")
	testenvTool(t, "ssh-add")
	pb := newPushBed(t, 3, 0)
	var lines []string
	for _, h := range pb.sshHosts {
		lines = append(lines, "ssh://"+testbed.SSHUser+"@"+h.IP)
	}
	list := writeList(t, pb.dir, lines)
	key, err := os.ReadFile(pb.SSHKeyPath())
	if err != nil {
		t.Fatal(err)
	}
	run := func(name string, env []string, want push.Outcome) {
		t.Helper()
		resp := filepath.Join(pb.dir, name+".csv")
		cmd := pb.Command(musterBin, "push", "-f", list, "--known-hosts", filepath.Join(pb.dir, "known_hosts"),
			"--installer", pb.installer(t), "--preset", "sh", "--server", "http://10.77.1.254:8080/ocsinventory",
			"--remote-dir", "muster-push-"+name, "--response", resp)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); (err == nil) != (want == push.OK) {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		for ip, r := range records(t, resp) {
			if r.Outcome != want {
				t.Errorf("%s: %s %s (%s), want %s", name, ip, r.Outcome, r.Error, want)
			}
		}
	}
	base := []string{"PATH=" + os.Getenv("PATH")}
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), key, 0o600)
	run("no-key", append(base, "HOME="+t.TempDir()), push.Failed)
	run("default-key", append(base, "HOME="+home), push.OK)

	// The agent, and a home without keys.
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { agent.Process.Kill(); agent.Wait() }()
	keyFile := filepath.Join(t.TempDir(), "k")
	os.WriteFile(keyFile, key, 0o600)
	var addErr error
	for i := 0; i < 100; i++ { // until the agent listens (bounded)
		add := exec.Command("ssh-add", keyFile)
		add.Env = append(base, "SSH_AUTH_SOCK="+sock)
		if addErr = add.Run(); addErr == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if addErr != nil {
		t.Fatalf("ssh-add: %v", addErr)
	}
	run("agent", append(base, "HOME="+t.TempDir(), "SSH_AUTH_SOCK="+sock), push.OK)
}
