//go:build unix

package winrmemu

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	pshell "muster/push/shell"
)

// Executors: what runs a command line.
const (
	// ExecWindows models a Windows host for the commands muster sends:
	// powershell.exe -EncodedCommand running one of muster's scripts
	// (push/shell/scripts), each carried out here in Go to the same contract
	// (files, digests, markers, exit codes), and installers run as
	// programs. Anything else fails as an unknown command would.
	ExecWindows = "windows"
	// ExecSh runs every command line through /bin/sh.
	ExecSh = "sh"
)

// hostPath maps a Windows path to the emulator's directory: C:\a\b is
// DIR/C/a/b, \\srv\share\x is DIR/UNC/srv/share/x, a relative path is
// relative to DIR.
func (s *Server) hostPath(p string) string {
	switch {
	case strings.HasPrefix(p, `\\`):
		p = "UNC/" + strings.TrimPrefix(p, `\\`)
	case len(p) >= 2 && p[1] == ':':
		p = strings.ToUpper(p[:1]) + "/" + strings.TrimLeft(p[2:], `\`)
	}
	return filepath.Join(s.cfg.Dir, filepath.FromSlash(strings.ReplaceAll(p, `\`, "/")))
}

// startWindows runs line as a Windows host would, for muster's scripts.
func (s *Server) startWindows(c *command, line string) error {
	script, ok := pshell.DecodeCommand(line)
	if !ok {
		return s.fail(c, 1, "'"+firstWord(line)+"' is not recognized as an internal or external command, operable program or batch file (winrmemu models muster's PowerShell scripts only)")
	}
	call, err := pshell.ParseInvocation(script)
	if err != nil {
		return s.fail(c, 1, "winrmemu: this PowerShell is not modelled: "+err.Error())
	}
	pr, pw := io.Pipe()
	c.mu.Lock()
	c.stdin = pw
	c.mu.Unlock()
	out := &streamWriter{c: c, i: 0}
	errw := &streamWriter{c: c, i: 1}
	a := call.Args
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		var code int
		var err error
		switch call.Script {
		case "upload.ps1":
			err = s.psUpload(pr, a["Path"], a["Size"])
		case "hash.ps1":
			err = s.psHash(out, a["Path"], "")
		case "pull.ps1":
			err = s.psPull(out, a["Url"], a["Path"], a["Digest"])
		case "state.ps1":
			if b, rerr := os.ReadFile(s.hostPath(a["Marker"])); rerr == nil {
				fmt.Fprintf(out, "marker %s\r\n", strings.TrimSpace(string(b)))
			}
		case "cleanup.ps1":
			os.Remove(s.hostPath(a["Path"]))
			os.Remove(s.hostPath(a["Path"] + ".part"))
		case "install.ps1":
			code, err = s.psInstall(c, out, errw, a)
		default:
			err = fmt.Errorf("winrmemu: %s is not modelled", call.Script)
		}
		pr.CloseWithError(io.EOF)
		if err != nil {
			// $ErrorActionPreference='Stop': the error on stderr, exit 1.
			fmt.Fprintf(errw, "%v\r\n", err)
			code = 1
		}
		c.finish(code)
	}()
	return nil
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// fail ends a command at once with a message and an exit code.
func (s *Server) fail(c *command, code int, msg string) error {
	c.mu.Lock()
	c.stdin = nopWriteCloser{}
	c.out[1] = append(c.out[1], msg+"\r\n"...)
	c.mu.Unlock()
	c.finish(code)
	return nil
}

type nopWriteCloser struct{}

func (nopWriteCloser) Write(p []byte) (int, error) { return len(p), nil }
func (nopWriteCloser) Close() error                { return nil }

// psUpload is upload.ps1: base64 lines from stdin into PATH.part, checked
// for size, moved into place.
func (s *Server) psUpload(in io.Reader, path, size string) error {
	p := s.hostPath(path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p + ".part")
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	var dec []byte
	for sc.Scan() {
		l := bytes.TrimSpace(sc.Bytes())
		if len(l) == 0 {
			continue
		}
		if n := base64.StdEncoding.DecodedLen(len(l)); cap(dec) < n {
			dec = make([]byte, n)
		}
		n, err := base64.StdEncoding.Decode(dec[:cap(dec)], l)
		if err != nil {
			f.Close()
			os.Remove(p + ".part")
			return fmt.Errorf("Exception calling \"FromBase64String\": %v", err)
		}
		f.Write(dec[:n])
	}
	fi, _ := f.Stat()
	f.Close()
	if got := fmt.Sprint(fi.Size()); got != size {
		os.Remove(p + ".part")
		return fmt.Errorf("upload %s: %s bytes arrived, want %s", path, got, size)
	}
	return os.Rename(p+".part", p)
}

func digestOf(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("Exception calling \"OpenRead\": Could not find file '%s'", p)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// psHash is hash.ps1 (and the end of pull.ps1).
func (s *Server) psHash(out io.Writer, path, _ string) error {
	d, err := digestOf(s.hostPath(path))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sha256 %s\r\n", d)
	return nil
}

// psPull is pull.ps1: WebClient.DownloadFile to PATH.part, digest check,
// move.
func (s *Server) psPull(out io.Writer, url, path, digest string) error {
	p := s.hostPath(path)
	os.MkdirAll(filepath.Dir(p), 0o755)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("Exception calling \"DownloadFile\": %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("Exception calling \"DownloadFile\": The remote server returned an error: (%d)", resp.StatusCode)
	}
	f, err := os.Create(p + ".part")
	if err != nil {
		return err
	}
	_, err = io.Copy(f, io.LimitReader(resp.Body, 4<<30))
	f.Close()
	if err != nil {
		os.Remove(p + ".part")
		return err
	}
	d, _ := digestOf(p + ".part")
	if d != strings.ToLower(digest) {
		os.Remove(p + ".part")
		return fmt.Errorf("download %s: SHA-256 %s, want %s: not kept", url, d, digest)
	}
	if err := os.Rename(p+".part", p); err != nil {
		return err
	}
	fmt.Fprintf(out, "sha256 %s\r\n", d)
	return nil
}

// psInstall is install.ps1: the marker, then the installer as a program
// (an .msi as msiexec would run it: its verbose log named by
// $WINRMEMU_MSI_LOG), its exit code into the marker, 1618 removing it, the
// log's tail on stderr when it failed.
func (s *Server) psInstall(c *command, out, errw io.Writer, a map[string]string) (int, error) {
	marker := s.hostPath(a["Marker"])
	if b, err := os.ReadFile(marker); err == nil {
		fmt.Fprintf(out, "marker %s\r\n", strings.TrimSpace(string(b)))
		return pshell.MarkerExit, nil
	}
	os.MkdirAll(filepath.Dir(marker), 0o755)
	if err := os.WriteFile(marker, []byte("started "+time.Now().UTC().Format(time.RFC3339Nano)), 0o644); err != nil {
		return 0, fmt.Errorf("Exception calling \"WriteAllText\": %v", err)
	}
	file := s.hostPath(a["File"])
	if _, err := os.Stat(file); err != nil {
		os.Remove(marker)
		return 0, fmt.Errorf("Exception calling \"Start\": The system cannot find the file specified (%s)", a["File"])
	}
	// The installer is a test program (sh) standing in for the .exe/.msi;
	// it gets its arguments as the real one would.
	cmd, codeFile := s.shCommand(c, "/bin/sh", "-c", `exec sh "$0" $WINRMEMU_ARGS`, file)
	cmd.Env = append(cmd.Env, "WINRMEMU_ARGS="+a["Arguments"], "WINRMEMU_INSTALLER="+a["File"])
	log := ""
	if a["Log"] != "" {
		log = s.hostPath(a["Log"])
		cmd.Env = append(cmd.Env, "WINRMEMU_MSI_LOG="+log)
	}
	if a["AsSystem"] == "true" {
		cmd.Env = append(cmd.Env, "WINRMEMU_USER=SYSTEM")
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.cmd = cmd
	c.mu.Unlock()
	code := exitCode(cmd.Wait(), codeFile)
	os.WriteFile(marker, []byte(fmt.Sprintf("done %d", code)), 0o644)
	if code == 1618 {
		os.Remove(marker)
	}
	if code != 0 && code != 3010 && code != 1641 && log != "" {
		if b, err := os.ReadFile(log); err == nil {
			lines := strings.Split(strings.TrimRight(string(b), "\r\n"), "\n")
			if len(lines) > 40 {
				lines = lines[len(lines)-40:]
			}
			for _, l := range lines {
				fmt.Fprintf(errw, "log: %s\r\n", strings.TrimRight(l, "\r"))
			}
		}
	}
	return code, nil
}
