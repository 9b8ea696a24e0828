package push

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"muster/push/shell"
)

// Mode is how the installer reaches the target.
type Mode string

// Install modes.
const (
	// Copy uploads the installer over the transport, then checks its
	// SHA-256 on the target.
	Copy Mode = "copy"
	// Pull makes the target download it from a URL (the muster server or
	// any HTTPS URL) and check its SHA-256: WinRM stays for the short
	// control commands.
	Pull Mode = "pull"
)

// Presets are the install commands muster knows. Variables: {file} the
// installer on the target, {server} the server URL, {code} the activation
// code, {host} the host, {dir} the directory the installer is in.
var Presets = map[string]string{
	"ocs": `"{file}" /S /NOSPLASH /SERVER={server}`,
	// On Windows an .msi runs as msiexec /i FILE /qn /norestart /l*v LOG
	// followed by these arguments (install.ps1).
	"msi": `"{file}" ACTIVATION={code}`,
	"sh":  `MUSTER_SERVER='{server}' MUSTER_ACTIVATION='{code}' sh '{file}'`,
}

// activationRe is an activation code: ten letters A-Z.
var activationRe = regexp.MustCompile(`^[A-Z]{10}$`)

// nameCodeRe finds a code in an installer name: setup_ABCDEFGHIJ.msi.
var nameCodeRe = regexp.MustCompile(`_([A-Z]{10})\.[A-Za-z0-9]+$`)

// ActivationFromName returns the activation code carried in an installer's
// file name (anything_CODE.ext), or "".
func ActivationFromName(name string) string {
	if m := nameCodeRe.FindStringSubmatch(filepath.Base(name)); m != nil {
		return m[1]
	}
	return ""
}

// Job is what to install and how.
type Job struct {
	Mode Mode
	// Installer is the local file (copy) or just the file name to give the
	// download on the target (pull).
	Installer string
	// URL is where targets download from (pull).
	URL string
	// SHA256 is the installer's digest, lower-case hex; Prepare computes
	// it in copy mode.
	SHA256 string
	Size   int64
	// Command is the template (a preset's or the user's).
	Command    string
	Server     string
	Activation string
	// Dirs are where installers go on each family of target.
	Dirs map[string]string
	// RunID names this run in the install markers (see Marker).
	RunID string
	// Resume is set on --resume: every host first reads its marker.
	Resume bool
	// AsSystem runs installers as SYSTEM (psexec -s); UNC installers
	// always run so.
	AsSystem bool
	// Cleanup removes the installer from the host after it ran.
	Cleanup bool
}

// DefaultDirs are the remote directories installers are put in.
var DefaultDirs = map[string]string{
	"sh":      "/tmp/muster-push",
	"windows": `C:\Windows\Temp\muster-push`,
}

// Prepare checks the job before any host is touched: the file exists and
// is hashed (copy), the URL and digest are given (pull), the activation
// code has the right shape (or comes from the installer's name), and the
// template uses known variables only.
func (j *Job) Prepare() error {
	if j.Dirs == nil {
		j.Dirs = DefaultDirs
	}
	switch {
	case j.UNC():
		// Run from its share on each host: there is nothing here to hash.
		if !strings.EqualFold(filepath.Ext(j.Installer), ".exe") && !strings.EqualFold(filepath.Ext(j.Installer), ".msi") {
			return fmt.Errorf("installer %s: a share path must name an .exe or .msi", j.Installer)
		}
	case j.Mode == Copy:
		f, err := os.Open(j.Installer)
		if err != nil {
			return fmt.Errorf("installer: %w", err)
		}
		defer f.Close()
		h := sha256.New()
		n, err := io.Copy(h, f)
		if err != nil {
			return fmt.Errorf("installer %s: %w", j.Installer, err)
		}
		sum := hex.EncodeToString(h.Sum(nil))
		if j.SHA256 != "" && !strings.EqualFold(j.SHA256, sum) {
			return fmt.Errorf("installer %s: SHA-256 is %s, not the %s given", j.Installer, sum, j.SHA256)
		}
		j.SHA256, j.Size = sum, n
	case j.Mode == Pull:
		u, err := url.Parse(j.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--url %q: want an http(s) URL the targets can reach", j.URL)
		}
		if len(j.SHA256) != 64 {
			return errors.New("pull mode needs the installer's SHA-256 (--sha256), or a local --installer to compute it from")
		}
		if _, err := hex.DecodeString(j.SHA256); err != nil {
			return fmt.Errorf("--sha256 %q is not hex", j.SHA256)
		}
		j.SHA256 = strings.ToLower(j.SHA256)
		if j.Installer == "" {
			j.Installer = filepath.Base(u.Path)
		}
	default:
		return fmt.Errorf("mode %q: want copy or pull", j.Mode)
	}
	if j.Activation == "" {
		j.Activation = ActivationFromName(j.Installer)
	}
	if j.Activation != "" && !activationRe.MatchString(j.Activation) {
		return fmt.Errorf("activation code %q: want 10 letters A-Z", j.Activation)
	}
	if strings.Contains(j.Command, "{code}") && j.Activation == "" {
		return errors.New("the command uses {code} but there is no activation code (--activation, or an installer named *_CODE.msi)")
	}
	if strings.ContainsAny(j.Server, " \t\"'`$;&|<>\n") {
		return fmt.Errorf("--server %q: spaces and shell characters are not allowed", j.Server)
	}
	if strings.Contains(j.Command, "{server}") && j.Server == "" {
		return errors.New("the command uses {server} but --server is not set")
	}
	if rest := varRe.ReplaceAllString(j.Command, ""); strings.ContainsAny(rest, "{}") {
		return fmt.Errorf("command template %q: unknown variable (known: {file} {server} {code} {host} {dir})", j.Command)
	}
	if j.Command == "" {
		return errors.New("no install command (--preset or --command)")
	}
	return nil
}

var varRe = regexp.MustCompile(`\{(file|server|code|host|dir)\}`)

// RemoteFile is where the installer goes on a target of the family.
func (j *Job) RemoteFile(family string) string {
	if j.UNC() {
		return j.Installer
	}
	base := filepath.Base(j.Installer)
	if family == "windows" {
		return j.Dirs[family] + `\` + base
	}
	return j.Dirs[family] + "/" + base
}

// CommandFor expands the template for one host.
func (j *Job) CommandFor(family string, h Host) string { return j.expand(family, h, j.Command) }

func (j *Job) expand(family string, h Host, tmpl string) string {
	r := strings.NewReplacer("{file}", j.RemoteFile(family), "{server}", j.Server, "{code}", j.Activation,
		"{host}", h.Name, "{dir}", j.Dirs[family])
	return r.Replace(tmpl)
}

// Installed is what running the installer on one host did.
type Installed struct {
	ExitCode int
	// Reboot is set for exit codes 3010 (reboot needed) and 1641 (reboot
	// started): both are successes.
	Reboot bool
	Output string // the tail of stdout and stderr, sanitized
	// FromMarker is set when the result was read from the marker of an
	// earlier attempt (the connection dropped after the installer ended).
	FromMarker bool
}

// InstallError is an installer that ran and failed.
type InstallError struct {
	ExitCode int
	Output   string
	// Later is set for 1618 (another installation in progress): nothing
	// was installed, and the host is tried again after a while.
	Later bool
}

func (e *InstallError) Error() string {
	msg := fmt.Sprintf("installer exited with %d", e.ExitCode)
	if e.Later {
		msg += " (another installation is in progress)"
	}
	if tail := lastLines(e.Output, 3); tail != "" {
		msg += ": " + tail
	}
	return msg
}

// UnknownError is an installer that started and whose end was not seen.
type UnknownError struct{ Marker string }

func (e *UnknownError) Error() string {
	return "the installer started in an earlier attempt and its end was not seen (" + e.Marker + "): not run again; check the host"
}

// StartedError is a transport failure after the installer may have started.
type StartedError struct{ Err error }

func (e *StartedError) Error() string {
	return "connection lost while the installer ran: " + e.Err.Error()
}
func (e *StartedError) Unwrap() error { return e.Err }

func lastLine(s string) string { return lastLines(s, 1) }

// lastLines is the last n non-empty lines of s, joined with " | ".
func lastLines(s string, n int) string {
	var keep []string
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0 && len(keep) < n; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			keep = append([]string{l}, keep...)
		}
	}
	out := strings.Join(keep, " | ")
	if len(out) > 400 {
		out = out[len(out)-400:]
	}
	return out
}

// Marker is the file on the host that says the installer of this run
// started (and, after, how it ended). RunID names the run: the same on
// --resume, a new one on --retry-from.
func (j *Job) Marker(family string) string {
	id := j.RunID
	if id == "" {
		id = "0"
	}
	return j.localFile(family) + ".run-" + id + ".state"
}

// localFile is the installer's path on the host, or for a UNC installer
// the local path its marker and log take: never the share, which every
// host reads.
func (j *Job) localFile(family string) string {
	if !j.UNC() {
		return j.RemoteFile(family)
	}
	base := j.Installer[strings.LastIndexByte(j.Installer, '\\')+1:]
	return j.Dirs[family] + `\` + base
}

// installFor is the shell's view of this host's install.
func (j *Job) installFor(family string, h Host) shell.Install {
	in := shell.Install{Marker: j.Marker(family), AsSystem: j.AsSystem || j.UNC()}
	cmd := j.CommandFor(family, h)
	if family != "windows" {
		in.Command = cmd
		return in
	}
	file := j.RemoteFile(family)
	rest, ok := strings.CutPrefix(j.Command, `"{file}"`)
	if !ok {
		rest, ok = strings.CutPrefix(j.Command, "{file}")
	}
	if ok {
		in.File = file
		in.Args = strings.TrimSpace(j.expand(family, h, rest))
	} else {
		in.File = `C:\Windows\System32\cmd.exe`
		in.Args = "/c " + cmd
	}
	if strings.EqualFold(filepath.Ext(in.File), ".msi") {
		in.Log = j.localFile(family) + ".log"
	}
	return in
}

// Install puts the installer on the host, checks its digest and runs it
// once, guarded by the run's marker. A failed installer is an
// *InstallError; one whose end was never seen, an *UnknownError.
func (j *Job) Install(ctx context.Context, tr Transport, h Host, attempt int) (Installed, error) {
	fam := tr.Family()
	sh, err := shell.For(fam)
	if err != nil {
		return Installed{}, err
	}
	if j.UNC() && fam != "windows" {
		return Installed{}, fmt.Errorf("installer %s: a share path needs a Windows host (this one runs sh)", j.Installer)
	}
	file := j.RemoteFile(fam)
	in := j.installFor(fam, h)
	if attempt > 1 || j.Resume {
		// Before copying again: did an earlier attempt start the installer?
		ex, err := tr.Run(ctx, sh.State(in.Marker))
		if err != nil {
			return Installed{}, fmt.Errorf("read the marker: %w", err)
		}
		if m, ok := markerLine(ex.Stdout); ok {
			return j.fromMarker(m, in.Marker)
		}
	}
	switch {
	case j.UNC():
		// Run from the share: nothing to copy; SYSTEM reads it as the
		// machine account (a WinRM logon cannot make the second hop).
	case j.Mode == Copy:
		f, err := os.Open(j.Installer)
		if err != nil {
			return Installed{}, err
		}
		err = tr.Upload(ctx, f, j.Size, file)
		f.Close()
		if err != nil {
			return Installed{}, fmt.Errorf("copy installer: %w", err)
		}
		if err := j.verify(ctx, tr, sh.Hash(file)); err != nil {
			return Installed{}, err
		}
	case j.Mode == Pull:
		if err := j.verify(ctx, tr, sh.Pull(j.URL, file, j.SHA256)); err != nil {
			return Installed{}, err
		}
	}
	ex, err := tr.Run(ctx, sh.Install(in))
	if err != nil {
		var ue *UnreachableError
		if errors.As(err, &ue) {
			// The installer may be running: a retry reads the marker.
			return Installed{}, &UnreachableError{&StartedError{err}}
		}
		return Installed{}, fmt.Errorf("run installer: %w", err)
	}
	out := Sanitize(string(ex.Stdout) + string(ex.Stderr))
	if ex.ExitCode == shell.MarkerExit {
		if m, ok := markerLine(ex.Stdout); ok {
			return j.fromMarker(m, in.Marker)
		}
	}
	if j.Cleanup && !j.UNC() {
		tr.Run(ctx, sh.Cleanup(file)) // best effort: the marker stays
	}
	return result(ex.ExitCode, out)
}

// result turns an installer's exit code into an outcome.
func result(code int, out string) (Installed, error) {
	switch code {
	case 0:
		return Installed{Output: out}, nil
	case 3010, 1641: // ERROR_SUCCESS_REBOOT_REQUIRED, ERROR_SUCCESS_REBOOT_INITIATED
		return Installed{ExitCode: code, Reboot: true, Output: out}, nil
	}
	return Installed{ExitCode: code, Output: out}, &InstallError{ExitCode: code, Output: out, Later: code == 1618}
}

// markerLine finds "marker …" in a command's output.
func markerLine(stdout []byte) (string, bool) {
	for _, l := range strings.Split(string(stdout), "\n") {
		if m, ok := strings.CutPrefix(strings.TrimSpace(l), "marker "); ok {
			return m, true
		}
	}
	return "", false
}

// fromMarker finishes a host from its marker: "done N" is the exit code of
// an installer that ran; "started …" is one whose end nobody saw.
func (j *Job) fromMarker(m, path string) (Installed, error) {
	if code, ok := strings.CutPrefix(m, "done "); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(code)); err == nil {
			inst, err := result(n, "exit code read from the marker of an earlier attempt")
			inst.FromMarker = true
			return inst, err
		}
	}
	return Installed{}, &UnknownError{Marker: path + ": " + Sanitize(m)}
}

// Via says how the installer reaches hosts, for the response file.
func (j *Job) Via() string {
	switch {
	case j.UNC():
		return "share"
	case j.Mode == Pull:
		return "pull"
	}
	return "copy"
}

// UNC reports whether the installer is run from a share (\\server\share\…).
func (j *Job) UNC() bool { return strings.HasPrefix(j.Installer, `\\`) }

var hexRe = regexp.MustCompile(`(?i)\b[0-9a-f]{64}\b`)

// verify runs a command whose output holds the installer's SHA-256 and
// compares it with the job's.
func (j *Job) verify(ctx context.Context, tr Transport, cmd string) error {
	ex, err := tr.Run(ctx, cmd)
	if err != nil {
		return fmt.Errorf("check installer: %w", err)
	}
	got := strings.ToLower(hexRe.FindString(string(ex.Stdout)))
	if ex.ExitCode != 0 || got == "" {
		return fmt.Errorf("check installer: exit %d: %s", ex.ExitCode, lastLine(Sanitize(string(bytes.TrimSpace(append(ex.Stdout, ex.Stderr...))))))
	}
	if got != j.SHA256 {
		return fmt.Errorf("installer on the host has SHA-256 %s, want %s: not run", got, j.SHA256)
	}
	return nil
}
