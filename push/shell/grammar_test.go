package shell

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"muster/internal/testenv"
)

// psgrammar is the project's copy of the real PowerShell grammar
// (tree-sitter-powershell on web-tree-sitter), installed by make test-deps.
const psgrammar = "../../scripts/psgrammar"

// parsePS runs the grammar over files and returns its report.
func parsePS(t *testing.T, files ...string) (string, error) {
	t.Helper()
	node := testenv.Tool(t, "node")
	if _, err := os.Stat(filepath.Join(psgrammar, "node_modules", "tree-sitter-powershell", "tree-sitter-powershell.wasm")); err != nil {
		testenv.Missing(t, "the PowerShell grammar is not installed (make test-deps runs npm ci in scripts/psgrammar)")
	}
	out, err := exec.Command(node, append([]string{filepath.Join(psgrammar, "parse.mjs")}, files...)...).CombinedOutput()
	return string(out), err
}

// TestScriptsParse parses every embedded script, and every script as it is
// sent (comments dropped, wrapped in an invocation with arguments), with
// the real grammar: an ERROR or MISSING node fails.
func TestScriptsParse(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, name := range Names() {
		files = append(files, filepath.Join("scripts", name))
	}
	for name, text := range sentScripts() {
		p := filepath.Join(dir, "sent-"+name+".ps1")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	out, err := parsePS(t, files...)
	if err != nil {
		t.Fatalf("the PowerShell grammar rejects a script:\n%s", out)
	}
	if n := strings.Count(out, ": ok ("); n != len(files) {
		t.Fatalf("%d of %d files reported ok:\n%s", n, len(files), out)
	}
}

// TestGrammarCatchesBrokenScript proves the check can fail.
func TestGrammarCatchesBrokenScript(t *testing.T) {
	out, err := parsePS(t, "testdata/broken.ps1")
	if err == nil || !strings.Contains(out, "broken.ps1:") {
		t.Fatalf("a broken script passed the grammar check:\n%s", out)
	}
}

// sentScripts is every script invocation muster sends, with awkward values.
func sentScripts() map[string]string {
	path := `C:\Program Files\it's\agent $x.msi`
	return map[string]string{
		"upload":         Invocation("upload.ps1", true, Arg{Name: "Path", Value: path}, Arg{Name: "Size", Value: "123"}),
		"hash":           Invocation("hash.ps1", false, Arg{Name: "Path", Value: path}),
		"pull":           Invocation("pull.ps1", false, Arg{Name: "Url", Value: "https://h/x?a=1&b='2'"}, Arg{Name: "Path", Value: path}, Arg{Name: "Digest", Value: strings.Repeat("a", 64)}),
		"install":        Invocation("install.ps1", false, Arg{Name: "File", Value: path}, Arg{Name: "Arguments", Value: `/S /SERVER="http://x" ACTIVATION=ABC`}, Arg{Name: "Marker", Value: path + ".state"}, Arg{Name: "Log", Value: path + ".log"}, Arg{Name: "AsSystem", Switch: true}),
		"cleanup":        Invocation("cleanup.ps1", false, Arg{Name: "Path", Value: path}),
		"state":          Invocation("state.ps1", false, Arg{Name: "Marker", Value: path}),
		"install-nolog":  Invocation("install.ps1", false, Arg{Name: "File", Value: `\\srv\NETLOGON\setup.exe`}, Arg{Name: "Arguments", Value: ""}, Arg{Name: "Marker", Value: `C:\m`}),
		"typographic-qs": Invocation("hash.ps1", false, Arg{Name: "Path", Value: "C:\\a\u2019b\u2018c"}),
	}
}
