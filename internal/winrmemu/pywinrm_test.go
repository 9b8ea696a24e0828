//go:build unix

package winrmemu

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"muster/internal/testenv"
)

// pywinrmScript drives the emulator with Debian's python3-winrm, a client
// written independently of ours: commands, exit codes, both streams, the
// unknown-shell fault, bad credentials, and Receives held past
// OperationTimeout.
const pywinrmScript = `
import sys, winrm
from winrm.protocol import Protocol
from winrm.exceptions import InvalidCredentialsError, WinRMError

url, user, pw, marker = sys.argv[1:5]
s = winrm.Session(url, auth=(user, pw))

r = s.run_cmd('echo', ['hello', 'world'])
assert r.status_code == 0 and r.std_out.strip() == b'hello world', r.__dict__

r = s.run_cmd('echo out && echo err 1>&2 && exit 7')
assert r.status_code == 7, r.status_code
assert r.std_out.strip() == b'out' and r.std_err.strip() == b'err', r.__dict__

r = s.run_cmd('touch ' + marker)
assert r.status_code == 0

p = Protocol(url, transport='plaintext', username=user, password=pw)
try:
    p.run_command('NO-SUCH-SHELL', 'echo')
    raise SystemExit('unknown shell accepted')
except WinRMError as e:
    assert 'not found' in str(e), str(e)

try:
    winrm.Session(url, auth=(user, 'wrong')).run_cmd('echo')
    raise SystemExit('bad password accepted')
except InvalidCredentialsError:
    pass

p = Protocol(url, transport='plaintext', username=user, password=pw,
             operation_timeout_sec=1, read_timeout_sec=3)
sid = p.open_shell()
cid = p.run_command(sid, 'sleep 3; echo late')
out, err, code = p.get_command_output(sid, cid)
assert out.strip() == b'late' and code == 0, (out, err, code)
p.cleanup_command(sid, cid)
p.close_shell(sid)
print('pywinrm OK')
`

func TestPywinrmFidelity(t *testing.T) {
	testenv.Tool(t, "/usr/bin/python3")
	if err := exec.Command("/usr/bin/python3", "-c", "import winrm").Run(); err != nil {
		testenv.Missing(t, "python3-winrm is not installed (Debian package python3-winrm; make test installs it)")
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Users: map[string]string{"Administrator": "s3cret!"}, Dir: dir})
	s.Start(ln, false)
	defer s.Close()
	script := filepath.Join(t.TempDir(), "drive.py")
	os.WriteFile(script, []byte(pywinrmScript), 0o644)
	marker := filepath.Join(dir, "ran-for-real")
	cmd := exec.Command("/usr/bin/python3", script, s.URL, "Administrator", "s3cret!", marker)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "pywinrm OK") {
		t.Fatalf("pywinrm: %v\n%s", err, out)
	}
	// The command really ran on this machine.
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("marker: %v", err)
	}
	// The 3 s command outlived a 1 s OperationTimeout: the emulator held
	// Receives and answered the TimedOut fault, which pywinrm retried.
	if n := s.Requests("Receive"); n < 3 {
		t.Errorf("%d Receives; want the timeout path exercised", n)
	}
	if s.Shells() != 0 {
		t.Errorf("%d shells left open", s.Shells())
	}
	t.Logf("pywinrm scenario in %v, %d Receives", time.Since(start).Round(time.Millisecond), s.Requests("Receive"))
}
