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
	"strings"
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
	"msi": `msiexec /i "{file}" /qn ACTIVATION={code}`,
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
	switch j.Mode {
	case Copy:
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
	case Pull:
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
	base := filepath.Base(j.Installer)
	if family == "windows" {
		return j.Dirs[family] + `\` + base
	}
	return j.Dirs[family] + "/" + base
}

// CommandFor expands the template for one host.
func (j *Job) CommandFor(family string, h Host) string {
	r := strings.NewReplacer("{file}", j.RemoteFile(family), "{server}", j.Server, "{code}", j.Activation,
		"{host}", h.Name, "{dir}", j.Dirs[family])
	return r.Replace(j.Command)
}

// Installed is what running the installer on one host did.
type Installed struct {
	ExitCode int
	// Reboot is set for exit code 3010 (success, reboot needed).
	Reboot bool
	Output string // the tail of stdout and stderr
}

// InstallError is an installer that ran and failed.
type InstallError struct {
	ExitCode int
	Output   string
}

func (e *InstallError) Error() string {
	return fmt.Sprintf("installer exited with %d: %s", e.ExitCode, lastLine(e.Output))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[len(s)-200:]
	}
	return s
}

// Install puts the installer on the host, checks its digest and runs the
// command. A failed installer is an *InstallError.
func (j *Job) Install(ctx context.Context, tr Transport, h Host) (Installed, error) {
	fam := tr.Family()
	file := j.RemoteFile(fam)
	switch j.Mode {
	case Copy:
		f, err := os.Open(j.Installer)
		if err != nil {
			return Installed{}, err
		}
		err = tr.Upload(ctx, f, j.Size, file)
		f.Close()
		if err != nil {
			return Installed{}, fmt.Errorf("copy installer: %w", err)
		}
		if err := j.verify(ctx, tr, hashCommand(fam, file)); err != nil {
			return Installed{}, err
		}
	case Pull:
		if err := j.verify(ctx, tr, pullCommand(fam, j.URL, j.Dirs[fam], file)); err != nil {
			return Installed{}, err
		}
	}
	ex, err := tr.Run(ctx, j.CommandFor(fam, h))
	if err != nil {
		return Installed{}, fmt.Errorf("run installer: %w", err)
	}
	out := string(ex.Stdout) + string(ex.Stderr)
	switch ex.ExitCode {
	case 0:
		return Installed{Output: out}, nil
	case 3010: // ERROR_SUCCESS_REBOOT_REQUIRED
		return Installed{ExitCode: 3010, Reboot: true, Output: out}, nil
	}
	return Installed{ExitCode: ex.ExitCode, Output: out}, &InstallError{ExitCode: ex.ExitCode, Output: out}
}

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
		return fmt.Errorf("check installer: exit %d: %s", ex.ExitCode, lastLine(string(bytes.TrimSpace(append(ex.Stdout, ex.Stderr...)))))
	}
	if got != j.SHA256 {
		return fmt.Errorf("installer on the host has SHA-256 %s, want %s: not run", got, j.SHA256)
	}
	return nil
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func hashCommand(family, file string) string {
	if family == "windows" {
		return `powershell -NoProfile -NonInteractive -Command "(Get-FileHash -Algorithm SHA256 -LiteralPath ` + psQuote(file) + `).Hash"`
	}
	return "sha256sum " + shQuote(file)
}

func pullCommand(family, u, dir, file string) string {
	if family == "windows" {
		return `powershell -NoProfile -NonInteractive -Command "$ProgressPreference='SilentlyContinue'; ` +
			`[Net.ServicePointManager]::SecurityProtocol=[Net.SecurityProtocolType]::Tls12; ` +
			`New-Item -ItemType Directory -Force -Path ` + psQuote(dir) + ` | Out-Null; ` +
			`Invoke-WebRequest -UseBasicParsing -Uri ` + psQuote(u) + ` -OutFile ` + psQuote(file) + `; ` +
			`(Get-FileHash -Algorithm SHA256 -LiteralPath ` + psQuote(file) + `).Hash"`
	}
	return "mkdir -p " + shQuote(dir) + " && (curl -fsSL -o " + shQuote(file) + " " + shQuote(u) +
		" || wget -q -O " + shQuote(file) + " " + shQuote(u) + ") && sha256sum " + shQuote(file)
}
