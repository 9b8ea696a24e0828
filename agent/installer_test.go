package agent

import "testing"

func TestInstalledCode(t *testing.T) {
	for _, tc := range []struct {
		in   Installed
		want string
	}{
		{Installed{InstallerPath: `C:\Users\admin\Downloads\muster-agent_ABCDEFGHIJ.msi`}, "ABCDEFGHIJ"},
		{Installed{InstallerPath: `\\srv\share\muster-agent_abcdefghij.msi`}, "ABCDEFGHIJ"},
		{Installed{Activation: "QWERTYUIOP", InstallerPath: `C:\x\muster-agent_ABCDEFGHIJ.msi`}, "QWERTYUIOP"},
		{Installed{InstallerPath: `C:\x\muster-agent.msi`}, ""},
		{Installed{InstallerPath: `C:\x\muster-agent_ABC.msi`}, ""},
		{Installed{}, ""},
	} {
		if got := tc.in.Code(); got != tc.want {
			t.Errorf("%+v: code %q, want %q", tc.in, got, tc.want)
		}
	}
}
