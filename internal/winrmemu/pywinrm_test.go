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
	pshell "muster/push/shell"
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

// pywinrmHost checks for Debian's python3-winrm and serves an emulator on
// loopback for it.
func pywinrmHost(t *testing.T, cfg Config) *Server {
	t.Helper()
	testenv.Tool(t, "/usr/bin/python3")
	if err := exec.Command("/usr/bin/python3", "-c", "import winrm, requests_ntlm").Run(); err != nil {
		testenv.Missing(t, "python3-winrm is not installed (Debian package python3-winrm; make test installs it)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(cfg)
	s.Start(ln, false)
	t.Cleanup(s.Close)
	return s
}

// runPywinrm runs a Python script with the system interpreter (MD4 on)
// and returns its output, failing unless it printed want.
func runPywinrm(t *testing.T, script, want string, args ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "drive.py")
	os.WriteFile(p, []byte(script), 0o644)
	cmd := exec.Command("/usr/bin/python3", append([]string{p}, args...)...)
	cmd.Env = pywinrmEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), want) {
		t.Fatalf("pywinrm: %v\n%s", err, out)
	}
	return string(out)
}

// TestPywinrmFidelity runs the posix profile (Basic, plaintext) with
// pywinrm's plaintext transport.
func TestPywinrmFidelity(t *testing.T) {
	dir := t.TempDir()
	s := pywinrmHost(t, Config{Profile: ProfilePOSIX, Users: map[string]string{"Administrator": "s3cret!"}, Dir: dir})
	marker := filepath.Join(dir, "ran-for-real")
	start := time.Now()
	runPywinrm(t, pywinrmScript, "pywinrm OK", s.URL, "Administrator", "s3cret!", marker)
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

// pySendInput is Protocol.send_command_input of pywinrm 0.4, which
// Debian's 0.3.0 lacks: the Send operation with the Protocol's own header
// and transport.
const pySendInput = `
def send_command_input(p, sid, cid, data, end=False):
    # Protocol.send_command_input of pywinrm 0.4, which Debian's 0.3.0 lacks:
    # the Send operation with the Protocol's own header and transport.
    req = {'env:Envelope': p._get_soap_header(
        resource_uri='http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd',
        action='http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send',
        shell_id=sid)}
    stream = req['env:Envelope'].setdefault('env:Body', {}).setdefault('rsp:Send', {}).setdefault('rsp:Stream', {})
    stream['@Name'] = 'stdin'
    stream['@CommandId'] = cid
    stream['#text'] = base64.b64encode(data).decode('ascii')
    if end:
        stream['@End'] = 'true'
    p.send_message(xmltodict.unparse(req))
`

// pywinrmNTLMScript drives the windows profile as Ansible does: NTLM with
// message encryption over HTTP (every message sealed), commands with both
// streams and exit codes, stdin through send_command_input (how files are
// uploaded), and the refusals of a default host: unencrypted NTLM and a
// wrong password.
const pywinrmNTLMScript = `
import sys, base64, winrm, xmltodict
from winrm.protocol import Protocol
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError

` + pySendInput + `
url, user, pw, target = sys.argv[1:5]
s = winrm.Session(url, auth=(user, pw), transport='ntlm', message_encryption='always')
r = s.run_cmd('echo out && echo err 1>&2 && exit 7')
assert r.status_code == 7 and r.std_out.strip() == b'out' and r.std_err.strip() == b'err', r.__dict__

p = Protocol(url, transport='ntlm', username=user, password=pw, message_encryption='always')
sid = p.open_shell()
cid = p.run_command(sid, 'cat > ' + target + ' && wc -c < ' + target)
chunk = bytes(range(256)) * 1024
for i in range(3):
    send_command_input(p, sid, cid, chunk)
send_command_input(p, sid, cid, b'tail', end=True)
out, err, code = p.get_command_output(sid, cid)
assert code == 0 and out.strip() == str(3 * len(chunk) + 4).encode(), (out, err, code)
p.cleanup_command(sid, cid)
p.close_shell(sid)

for enc, who, what in (('never', pw, 'unencrypted NTLM'), ('always', 'wrong', 'a wrong password')):
    try:
        winrm.Session(url, auth=(user, who), transport='ntlm', message_encryption=enc).run_cmd('echo')
        raise SystemExit(what + ' accepted')
    except (InvalidCredentialsError, WinRMTransportError):
        pass
print('pywinrm NTLM OK')
`

// pywinrmEnv lets Debian's Python do MD4 (NTLM's NT hash), which OpenSSL 3
// keeps in its legacy provider.
func pywinrmEnv(t *testing.T) []string {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "openssl.cnf")
	os.WriteFile(conf, []byte("openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n"+
		"[provider_sect]\ndefault = default_sect\nlegacy = legacy_sect\n[default_sect]\nactivate = 1\n[legacy_sect]\nactivate = 1\n"), 0o644)
	return append(os.Environ(), "OPENSSL_CONF="+conf)
}

func TestPywinrmNTLMEncrypted(t *testing.T) {
	dir := t.TempDir()
	s := pywinrmHost(t, Config{Users: map[string]string{"Administrator": "s3cret!"}, Dir: dir, Exec: ExecSh})
	target := filepath.Join(dir, "uploaded.bin")
	runPywinrm(t, pywinrmNTLMScript, "pywinrm NTLM OK", s.URL, "Administrator", "s3cret!", target)
	if fi, err := os.Stat(target); err != nil || fi.Size() != 3*256*1024+4 {
		t.Fatalf("stdin did not land: %v", err)
	}
	if s.Requests("authenticated") == 0 || s.Requests("unencrypted-refused") == 0 || s.Requests("auth-refused") == 0 {
		t.Errorf("logons %d, unencrypted refused %d, bad password refused %d: want each path taken",
			s.Requests("authenticated"), s.Requests("unencrypted-refused"), s.Requests("auth-refused"))
	}
}

// pywinrmScriptsScript has pywinrm (NTLM, sealed) run muster's own
// scripts on the windows executor: upload.ps1 fed through stdin (base64
// lines, as muster sends them), then hash.ps1 through run_ps.
const pywinrmScriptsScript = `
import sys, base64, winrm, xmltodict, hashlib
from winrm.protocol import Protocol

url, user, pw, upload_ps, hash_ps = sys.argv[1:6]
upload_ps, hash_ps = open(upload_ps).read(), open(hash_ps).read()
data = bytes(range(256)) * 700

` + pySendInput + `
p = Protocol(url, transport='ntlm', username=user, password=pw, message_encryption='always')
sid = p.open_shell()
cid = p.run_command(sid, 'powershell -encodedcommand ' + base64.b64encode(upload_ps.encode('utf_16_le')).decode('ascii'))
for i in range(0, len(data), 65536):
    send_command_input(p, sid, cid, base64.b64encode(data[i:i+65536]) + b'\r\n')
send_command_input(p, sid, cid, b'', end=True)
out, err, code = p.get_command_output(sid, cid)
assert code == 0, (out, err, code)
p.cleanup_command(sid, cid)
p.close_shell(sid)

s = winrm.Session(url, auth=(user, pw), transport='ntlm', message_encryption='always')
r = s.run_ps(hash_ps)
assert r.status_code == 0 and r.std_out.strip() == b'sha256 ' + hashlib.sha256(data).hexdigest().encode(), r.__dict__
r = s.run_cmd('whoami')
assert r.status_code != 0 and b'not recognized' in r.std_err, r.__dict__
print('pywinrm scripts OK')
`

func TestPywinrmRunsMusterScripts(t *testing.T) {
	dir := t.TempDir()
	s := pywinrmHost(t, Config{Users: map[string]string{`CORP\Administrator`: "s3cret!"}, Dir: dir})
	tmp := t.TempDir()
	path := `C:\Windows\Temp\muster-push\it's here.bin`
	up := filepath.Join(tmp, "upload.ps1")
	os.WriteFile(up, []byte(pshell.Invocation("upload.ps1", true, pshell.Arg{Name: "Path", Value: path}, pshell.Arg{Name: "Size", Value: "179200"})), 0o644)
	hash := filepath.Join(tmp, "hash.ps1")
	os.WriteFile(hash, []byte(pshell.Invocation("hash.ps1", false, pshell.Arg{Name: "Path", Value: path})), 0o644)
	runPywinrm(t, pywinrmScriptsScript, "pywinrm scripts OK", s.URL, `CORP\Administrator`, "s3cret!", up, hash)
	if fi, err := os.Stat(filepath.Join(dir, "C", "Windows", "Temp", "muster-push", "it's here.bin")); err != nil || fi.Size() != 179200 {
		t.Fatalf("the upload did not land: %v", err)
	}
}
