package push

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
)

// PsexecArgs reads a psexec-style command line: @FILE (or hosts from -f)
// first, then the installer, then the installer's own arguments, as in
//
//	muster push @ALL.TXT -u DOMAIN\Administrator -p PASSWORD \\Server\NetLogon\Setup.exe /S /SERVER=http://ocs/ocsinventory
//
// fromFile says the hosts come from -f. It returns the host arguments, the
// installer ("" when the command line has none) and its arguments.
func PsexecArgs(args []string, fromFile bool) (hosts []string, installer string, installerArgs []string) {
	switch {
	case len(args) >= 2 && strings.HasPrefix(args[0], "@"):
		return args[:1], args[1], args[2:]
	case fromFile && len(args) >= 1:
		return nil, args[0], args[1:]
	}
	return args, "", nil
}

// WindowsInstaller reports whether an installer is a Windows one (.exe,
// .msi): bare host names then default to WinRM.
func WindowsInstaller(name string) bool {
	switch strings.ToLower(filepath.Ext(strings.ReplaceAll(name, `\`, "/"))) {
	case ".exe", ".msi":
		return true
	}
	return false
}

// InstallerCommand is the command template that runs the installer with
// the given arguments, each quoted for cmd.exe when it needs it.
func InstallerCommand(args []string) string {
	cmd := `"{file}"`
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t") && !strings.HasPrefix(a, `"`) {
			a = `"` + a + `"`
		}
		cmd += " " + a
	}
	return cmd
}

// RunID names a run in the hosts' install markers: the response file's
// path, hashed, so that --resume (same file) finds the markers of the run
// it continues and --retry-from (a new file) installs again.
func RunID(responsePath string) string {
	abs, err := filepath.Abs(responsePath)
	if err != nil {
		abs = responsePath
	}
	sum := sha256.Sum256([]byte(abs))
	return hex.EncodeToString(sum[:4])
}
