package shell

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGolden pins every command muster sends, per shell: the cmd.exe line
// (with the PowerShell it encodes shown decoded) and the sh line.
func TestGolden(t *testing.T) {
	in := Install{File: `C:\Windows\Temp\muster-push\agent_ABCDEFGHIJ.msi`, Args: "ACTIVATION=ABCDEFGHIJ",
		Marker: `C:\Windows\Temp\muster-push\agent_ABCDEFGHIJ.msi.run-0123abcd.state`, Log: `C:\Windows\Temp\muster-push\agent_ABCDEFGHIJ.msi.log`}
	sys := in
	sys.File, sys.Args, sys.Log, sys.AsSystem = `\\Server\NetLogon\OCS-NG-Windows-Agent-Setup.exe`, "/S /NOSPLASH /SERVER=http://ocs/ocsinventory", "", true
	shIn := Install{File: "/tmp/muster-push/agent.sh", Marker: "/tmp/muster-push/agent.sh.run-0123abcd.state",
		Env: map[string]string{"MUSTER_SERVER": "http://muster:8080/ocsinventory", "MUSTER_ACTIVATION": "ABCDEFGHIJ"}}
	for _, tc := range []struct {
		name string
		sh   Shell
		in   Install
		file string
	}{
		{"windows", PowerShell{}, in, `C:\Windows\Temp\muster-push\agent_ABCDEFGHIJ.msi`},
		{"windows-system-unc", PowerShell{}, sys, sys.File},
		{"sh", Sh{}, shIn, "/tmp/muster-push/agent.sh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			for _, c := range []struct{ op, cmd string }{
				{"upload", tc.sh.Upload(tc.file, 10485760)},
				{"hash", tc.sh.Hash(tc.file)},
				{"pull", tc.sh.Pull("https://muster.example:8443/push/agent.msi", tc.file, strings.Repeat("ab", 32))},
				{"install", tc.sh.Install(tc.in)},
				{"cleanup", tc.sh.Cleanup(tc.file)},
				{"state", tc.sh.State(tc.in.Marker)},
			} {
				if len(c.cmd) > 8191 {
					t.Errorf("%s: %d characters: over cmd.exe's 8191", c.op, len(c.cmd))
				}
				b.WriteString("== " + c.op + "\n" + c.cmd + "\n")
				if script, ok := DecodeCommand(c.cmd); ok {
					b.WriteString("-- decoded\n" + script + "\n")
				}
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				os.WriteFile(golden, []byte(b.String()), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./push/shell -update writes it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("commands differ from %s (go test ./push/shell -update, then review the diff)", golden)
			}
		})
	}
}

func TestQuoteAndParseRoundTrip(t *testing.T) {
	for _, v := range []string{"", "plain", "it's", "''", `C:\a b\c`, "$env:x `n", "a\u2019b", "\u2018\u2019\u201a\u201b'"} {
		text := Invocation("hash.ps1", false, Arg{Name: "Path", Value: v})
		c, err := ParseInvocation(text)
		if err != nil || c.Script != "hash.ps1" || c.Args["Path"] != v {
			t.Errorf("%q: %+v %v", v, c, err)
		}
	}
	c, err := ParseInvocation(Invocation("install.ps1", false, Arg{Name: "File", Value: "f"}, Arg{Name: "AsSystem", Switch: true}, Arg{Name: "Marker", Value: "m"}))
	if err != nil || c.Args["AsSystem"] != "true" || c.Args["Marker"] != "m" {
		t.Errorf("switch: %+v %v", c, err)
	}
	if _, err := ParseInvocation("& {\nWrite-Host pwned\n}"); err == nil {
		t.Error("an unknown script parsed as one of muster's")
	}
}

func FuzzParseInvocation(f *testing.F) {
	f.Add("C:\\x", "it's")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			t.Skip("values are text: the script goes to PowerShell as UTF-16")
		}
		text := Invocation("pull.ps1", false, Arg{Name: "Url", Value: a}, Arg{Name: "Path", Value: b}, Arg{Name: "Digest", Value: "x"})
		c, err := ParseInvocation(text)
		if err != nil || c.Args["Url"] != a || c.Args["Path"] != b {
			t.Fatalf("%q %q: %+v %v", a, b, c, err)
		}
		ParseInvocation(a) // never panics
	})
}
