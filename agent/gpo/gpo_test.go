package gpo

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"muster/internal/testenv"
)

func TestScriptsRefuseHostileValues(t *testing.T) {
	ok := Options{Server: "https://muster:8443/ocsinventory", Code: "abcdefghij", MSI: `\\srv\NETLOGON\muster-agent.msi`, Version: "0.2.0"}
	if _, _, err := Scripts(ok); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Options{
		{Server: "ftp://x/y", MSI: "a.msi", Version: "0.1.0"},
		{Server: "https://x/&calc", MSI: "a.msi", Version: "0.1.0"},
		{Server: "https://x/%PATH%", MSI: "a.msi", Version: "0.1.0"},
		{Server: "https://x/", Code: "ABC", MSI: "a.msi", Version: "0.1.0"},
		{Server: "https://x/", MSI: `a.msi" & calc & "`, Version: "0.1.0"},
		{Server: "https://x/", MSI: `\\srv\share\agent.exe`, Version: "0.1.0"},
		{Server: "https://x/'+(calc)+'", MSI: "a.msi", Version: "0.1.0"},
		{Server: "https://x/", MSI: "a.msi", Version: "1.2"},
		{Server: "https://x/", MSI: "a.msi", Version: "0.1.0'; calc; '"},
		{Server: "https://x/", MSI: "a.msi", Version: "256.0.0"},
	} {
		if _, _, err := Scripts(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestPS1Parses runs the real PowerShell grammar over the PowerShell twin.
func TestPS1Parses(t *testing.T) {
	_, ps1, err := Scripts(Options{Server: "https://muster:8443/ocsinventory", Code: "ABCDEFGHIJ", MSI: `\\srv\NETLOGON\muster-agent.msi`, Version: "0.2.0"})
	if err != nil {
		t.Fatal(err)
	}
	node := testenv.Tool(t, "node")
	grammar := "../../scripts/psgrammar"
	if _, err := os.Stat(filepath.Join(grammar, "node_modules", "tree-sitter-powershell")); err != nil {
		testenv.Missing(t, "the PowerShell grammar is not installed (make test-deps)")
	}
	f := filepath.Join(t.TempDir(), "startup.ps1")
	os.WriteFile(f, ps1, 0o644)
	out, err := exec.Command(node, filepath.Join(grammar, "parse.mjs"), f).CombinedOutput()
	if err != nil || !strings.Contains(string(out), ": ok (") {
		t.Fatalf("the grammar rejects the startup script: %v\n%s\n%s", err, out, ps1)
	}
}
