// Package shell builds the commands muster runs on push targets, for each
// kind of shell a target has: POSIX sh, and on Windows cmd.exe (what WinRM
// starts) handing the logic to PowerShell. The Windows side is a set of
// scripts in scripts/, embedded, which a Windows admin can read and run by
// hand; the grammar test parses every one with the real PowerShell grammar.
package shell

import (
	"embed"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"unicode/utf16"
)

// Scripts holds the Windows-side scripts, by file name.
//
//go:embed scripts/*.ps1
var Scripts embed.FS

// Install is one installer run.
type Install struct {
	// File is the installer on the target (or a UNC path).
	File string
	// Args are the installer's own arguments (for an .msi, after
	// msiexec's /i FILE /qn /norestart /l*v LOG).
	Args string
	// Marker is written before the installer starts and gets its exit
	// code after; when it exists nothing runs.
	Marker string
	// Log is msiexec's verbose log (Windows .msi only).
	Log string
	// AsSystem runs the installer as SYSTEM (psexec -s): a one-shot
	// scheduled task on Windows.
	AsSystem bool
	// Env is set for the installer (sh only: MUSTER_SERVER and the like).
	Env map[string]string
	// Command, on sh, is run instead of File (a --command template).
	Command string
}

// MarkerExit is the exit code of an install that did not run because its
// marker was there; its output then starts with "marker ".
const MarkerExit = 259

// Shell builds commands for one kind of target.
type Shell interface {
	// Name is "sh" or "windows".
	Name() string
	// Join joins a directory and a file name.
	Join(dir, name string) string
	// Upload reads the file from standard input (base64 lines) into path,
	// through a .part file checked for size.
	Upload(path string, size int64) string
	// Hash prints "sha256 <hex>" of path.
	Hash(path string) string
	// Pull downloads url to path, checks its SHA-256 and prints "sha256 <hex>".
	Pull(url, path, sha256 string) string
	// Install runs an installer once, guarded by its marker.
	Install(in Install) string
	// Cleanup removes an installer after its run (the marker stays).
	Cleanup(path string) string
	// State prints "marker <content>" if marker exists, else nothing.
	State(marker string) string
}

// For returns the shell of a family ("sh" or "windows").
func For(family string) (Shell, error) {
	switch family {
	case "sh":
		return Sh{}, nil
	case "windows":
		return PowerShell{}, nil
	}
	return nil, fmt.Errorf("shell %q: want sh or windows", family)
}

// PowerShell runs muster's scripts through powershell.exe from cmd.exe.
type PowerShell struct{}

// Name is "windows".
func (PowerShell) Name() string { return "windows" }

// Join joins with a backslash.
func (PowerShell) Join(dir, name string) string { return strings.TrimRight(dir, `\`) + `\` + name }

// Upload runs upload.ps1 with stdin as its input.
func (PowerShell) Upload(path string, size int64) string {
	return Command("upload.ps1", true, Arg{Name: "Path", Value: path}, Arg{Name: "Size", Value: fmt.Sprint(size)})
}

// Hash runs hash.ps1.
func (PowerShell) Hash(path string) string {
	return Command("hash.ps1", false, Arg{Name: "Path", Value: path})
}

// Pull runs pull.ps1.
func (PowerShell) Pull(url, path, sha256 string) string {
	return Command("pull.ps1", false, Arg{Name: "Url", Value: url}, Arg{Name: "Path", Value: path}, Arg{Name: "Digest", Value: sha256})
}

// Install runs install.ps1.
func (PowerShell) Install(in Install) string {
	args := []Arg{{Name: "File", Value: in.File}, {Name: "Arguments", Value: in.Args}, {Name: "Marker", Value: in.Marker}}
	if in.Log != "" {
		args = append(args, Arg{Name: "Log", Value: in.Log})
	}
	if in.AsSystem {
		args = append(args, Arg{Name: "AsSystem", Switch: true})
	}
	return Command("install.ps1", false, args...)
}

// State runs state.ps1.
func (PowerShell) State(marker string) string {
	return Command("state.ps1", false, Arg{Name: "Marker", Value: marker})
}

// Cleanup runs cleanup.ps1.
func (PowerShell) Cleanup(path string) string {
	return Command("cleanup.ps1", false, Arg{Name: "Path", Value: path})
}

// Arg is a named script parameter; a Switch has no value.
type Arg struct {
	Name, Value string
	Switch      bool
}

// Body is a script as muster sends it: full-line comments, blank lines
// and indentation dropped (the command line of cmd.exe is 8191 characters,
// and an encoded script takes 8/3 of its length).
func Body(name string) (string, error) {
	b, err := Scripts.ReadFile("scripts/" + name)
	if err != nil {
		return "", fmt.Errorf("shell: no script %s", name)
	}
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n"), nil
}

// Invocation is the PowerShell text that runs a script with its arguments:
// & { BODY } -Name 'value' …, after "$input | " when the script reads
// standard input (its process block sees each line).
func Invocation(name string, stdin bool, args ...Arg) string {
	body, err := Body(name)
	if err != nil {
		panic(err) // the names are this package's own
	}
	var b strings.Builder
	if stdin {
		b.WriteString("$input | ")
	}
	b.WriteString("& {\n")
	b.WriteString(body)
	b.WriteString("\n}")
	for _, a := range args {
		b.WriteString(" -" + a.Name)
		if !a.Switch {
			b.WriteString(" " + Quote(a.Value))
		}
	}
	return b.String()
}

// Command is the cmd.exe line that runs a script through PowerShell, the
// script passed as -EncodedCommand (UTF-16LE, base64): no quoting of cmd.exe
// or PowerShell can break it.
func Command(name string, stdin bool, args ...Arg) string {
	return "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand " + Encode(Invocation(name, stdin, args...))
}

// Encode is PowerShell's -EncodedCommand form of a script.
func Encode(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, v := range u {
		b[2*i], b[2*i+1] = byte(v), byte(v>>8)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Quote is a PowerShell single-quoted string: no expansion at all, and a
// quote is doubled (the typographic quotes PowerShell also accepts too).
func Quote(s string) string {
	r := strings.NewReplacer("'", "''", "\u2018", "\u2018\u2018", "\u2019", "\u2019\u2019", "\u201a", "\u201a\u201a", "\u201b", "\u201b\u201b")
	return "'" + r.Replace(s) + "'"
}

// Names lists the embedded scripts.
func Names() []string {
	entries, _ := Scripts.ReadDir("scripts")
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}
