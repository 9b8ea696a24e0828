//go:build unix

package push_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"muster/internal/winrmemu"
	"muster/push"
)

// The stand-in installer: the emulated Windows host runs it as the .msi
// would run, with the arguments msiexec would pass on. It counts its runs,
// writes a verbose log where msiexec would, and ends with the exit code its
// host's "exit-code" file names.
const fakeMSI = `n=$(cat runs 2>/dev/null || echo 0); echo $((n+1)) > runs
echo "args: $*" > args
echo "user: ${WINRMEMU_USER:-Administrator}" >> args
code=$(cat exit-code 2>/dev/null || echo 0)
[ -n "$WINRMEMU_MSI_LOG" ] && printf 'MSI (s): Note: 1: 1708\r\nMSI (s): Product: agent -- Installation failed.\r\n' > "$WINRMEMU_MSI_LOG"
echo "$code" > "$WINRMEMU_EXITCODE_FILE"
`

// TestWindowsInstallThroughScripts pushes an .msi to an emulated Windows
// host (NTLM, sealed) in copy and pull mode, through muster's PowerShell
// scripts as the host models them: the outcome per exit code, the
// msiexec log's tail on failure, 1618 retried, and a marker that stops a
// second run.
func TestWindowsInstallThroughScripts(t *testing.T) {
	dir := t.TempDir()
	emu := emulator(t, winrmemu.Config{Dir: dir, Exec: winrmemu.ExecWindows})
	d, err := push.NewWinRMDialer(push.WinRMConfig{User: "Administrator", Password: "s3cret!", OperationTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	msi := filepath.Join(t.TempDir(), "muster-agent_ABCDEFGHIJ.msi")
	os.WriteFile(msi, []byte(fakeMSI), 0o644)
	sum := sha256.Sum256([]byte(fakeMSI))
	web := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(msi))))
	defer web.Close()
	host := hostOf(t, emu.URL)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		mode   push.Mode
		code   int
		reboot bool
		fail   bool
	}{
		{"copy ok", push.Copy, 0, false, false},
		{"pull ok", push.Pull, 0, false, false},
		{"reboot needed", push.Copy, 3010, true, false},
		{"reboot started", push.Copy, 1641, true, false},
		{"fatal", push.Copy, 1603, false, true},
		{"busy", push.Pull, 1618, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, "exit-code"), []byte(fmt.Sprint(tc.code)), 0o644)
			os.Remove(filepath.Join(dir, "runs"))
			j := &push.Job{Mode: tc.mode, Installer: msi, Command: push.Presets["msi"], RunID: strings.ReplaceAll(tc.name, " ", "-"), Cleanup: true}
			if tc.mode == push.Pull {
				j.Installer, j.URL, j.SHA256 = filepath.Base(msi), web.URL+"/"+filepath.Base(msi), hex.EncodeToString(sum[:])
			}
			if err := j.Prepare(); err != nil {
				t.Fatal(err)
			}
			tr, err := d.Dial(ctx, host)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			inst, err := j.Install(ctx, tr, host, 1)
			if tc.fail != (err != nil) || inst.Reboot != tc.reboot || inst.ExitCode != tc.code {
				t.Fatalf("install: %+v, %v", inst, err)
			}
			var ie *push.InstallError
			if tc.fail {
				if !errors.As(err, &ie) || (tc.code == 1618) != ie.Later || !strings.Contains(ie.Output, "log: MSI (s): Product: agent -- Installation failed.") {
					t.Fatalf("failure %T %v", err, err)
				}
			}
			args, _ := os.ReadFile(filepath.Join(dir, "args"))
			if !strings.Contains(string(args), "args: ACTIVATION=ABCDEFGHIJ") {
				t.Errorf("installer arguments %q", args)
			}
			// The installer was cleaned up; the marker stays (but for 1618).
			installed := filepath.Join(dir, "C", "Windows", "Temp", "muster-push", filepath.Base(msi))
			if _, err := os.Stat(installed); err == nil {
				t.Error("the installer was left on the host")
			}
			_, merr := os.Stat(installed + ".run-" + j.RunID + ".state")
			if (merr == nil) == (tc.code == 1618) {
				t.Errorf("marker after exit %d: %v", tc.code, merr)
			}
			// A second attempt of the same run does not install again: it
			// finishes from the marker.
			if tc.code != 1618 {
				inst2, err2 := j.Install(ctx, tr, host, 2)
				if inst2.ExitCode != tc.code || (err2 != nil) != tc.fail || (!tc.fail && !inst2.FromMarker) {
					t.Errorf("second attempt: %+v %v", inst2, err2)
				}
				if runs, _ := os.ReadFile(filepath.Join(dir, "runs")); strings.TrimSpace(string(runs)) != "1" {
					t.Errorf("the installer ran %s times", runs)
				}
			}
		})
	}
	if n := emu.Requests("unencrypted-refused") + emu.Requests("basic-refused"); n != 0 {
		t.Errorf("%d requests refused as unencrypted or Basic", n)
	}
}

// TestWindowsStartedMarkerIsUnknown: a marker that says the installer
// started, and nothing more, is reported unknown and nothing runs.
func TestWindowsStartedMarkerIsUnknown(t *testing.T) {
	dir := t.TempDir()
	emu := emulator(t, winrmemu.Config{Dir: dir, Exec: winrmemu.ExecWindows})
	d, _ := push.NewWinRMDialer(push.WinRMConfig{User: "Administrator", Password: "s3cret!", OperationTimeout: 2 * time.Second})
	msi := filepath.Join(t.TempDir(), "agent_ABCDEFGHIJ.msi")
	os.WriteFile(msi, []byte(fakeMSI), 0o644)
	j := &push.Job{Mode: push.Copy, Installer: msi, Command: push.Presets["msi"], RunID: "r1"}
	if err := j.Prepare(); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "C", "Windows", "Temp", "muster-push", filepath.Base(msi)+".run-r1.state")
	os.MkdirAll(filepath.Dir(marker), 0o755)
	os.WriteFile(marker, []byte("started 2026-12-01T10:00:00Z"), 0o644)
	tr, err := d.Dial(context.Background(), hostOf(t, emu.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for _, attempt := range []int{1, 2} { // install.ps1 checks too, not only the retry's state.ps1
		_, err = j.Install(context.Background(), tr, hostOf(t, emu.URL), attempt)
		var ue *push.UnknownError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "started 2026-12-01") {
			t.Fatalf("attempt %d: %T %v", attempt, err, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "runs")); err == nil {
		t.Fatal("the installer ran although its marker said it had started")
	}
}

// TestWindowsUNCInstallerRunsFromShareAsSystem: a \\server\share installer
// is not copied; it runs from the share as SYSTEM, its marker local.
func TestWindowsUNCInstallerRunsFromShareAsSystem(t *testing.T) {
	dir := t.TempDir()
	emu := emulator(t, winrmemu.Config{Dir: dir, Exec: winrmemu.ExecWindows})
	d, _ := push.NewWinRMDialer(push.WinRMConfig{User: "Administrator", Password: "s3cret!", OperationTimeout: 2 * time.Second})
	share := filepath.Join(dir, "UNC", "srv", "NETLOGON")
	os.MkdirAll(share, 0o755)
	os.WriteFile(filepath.Join(share, "Setup.exe"), []byte(fakeMSI), 0o644)
	j := &push.Job{Mode: push.Copy, Installer: `\\srv\NETLOGON\Setup.exe`, Command: push.InstallerCommand([]string{"/S", "/SERVER=http://ocs/ocsinventory"}), RunID: "u1"}
	if err := j.Prepare(); err != nil {
		t.Fatal(err)
	}
	tr, err := d.Dial(context.Background(), hostOf(t, emu.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := j.Install(context.Background(), tr, hostOf(t, emu.URL), 1); err != nil {
		t.Fatal(err)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if !strings.Contains(string(args), "args: /S /SERVER=http://ocs/ocsinventory") || !strings.Contains(string(args), "user: SYSTEM") {
		t.Fatalf("ran with %q", args)
	}
	if _, err := os.Stat(filepath.Join(dir, "C", "Windows", "Temp", "muster-push", "Setup.exe")); err == nil {
		t.Error("a share installer was copied")
	}
	if _, err := os.Stat(filepath.Join(dir, "C", "Windows", "Temp", "muster-push", "Setup.exe.run-u1.state")); err != nil {
		t.Errorf("no local marker: %v", err)
	}
	if entries, _ := os.ReadDir(share); len(entries) != 1 {
		t.Errorf("the share holds %d files: the run wrote to it", len(entries))
	}
}
