package agent

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
)

// InstallBinary copies the running program into dir (the OCS setup's
// /D=DIR), as muster.exe on Windows and muster elsewhere, through a
// temporary file and a rename so a service never starts a half-copied
// binary, and returns the copy's path. A dir that already holds the
// running program is left as it is.
func InstallBinary(dir string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("install into %s: find this program: %w", dir, err)
	}
	name := "muster"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	dst, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return "", fmt.Errorf("install into %s: %w", dir, err)
	}
	if a, err1 := os.Stat(self); err1 == nil {
		if b, err2 := os.Stat(dst); err2 == nil && os.SameFile(a, b) {
			return dst, nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("install into %s: %w", dir, err)
	}
	in, err := os.Open(self)
	if err != nil {
		return "", fmt.Errorf("install into %s: read %s: %w", dir, self, err)
	}
	defer in.Close()
	tmp := dst + ".part"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return "", fmt.Errorf("install into %s: %w", dir, err)
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("install into %s: copy %s: %w", dir, self, err)
	}
	return dst, nil
}
