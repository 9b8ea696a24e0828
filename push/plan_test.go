package push

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPlanApplyPsexec(t *testing.T) {
	for _, tc := range []struct {
		name          string
		p             Plan
		wantArgs      []string
		wantInstaller string
		wantCommand   string
		wantTransport Scheme
	}{
		{name: "psexec form with a Windows installer goes over WinRM",
			p:        Plan{Transport: SchemeSSH, Args: []string{"@ALL.TXT", `\\srv\NETLOGON\setup.exe`, "/S", "/SERVER=http://ocs"}},
			wantArgs: []string{"@ALL.TXT"}, wantInstaller: `\\srv\NETLOGON\setup.exe`, wantCommand: InstallerCommand([]string{"/S", "/SERVER=http://ocs"}), wantTransport: SchemeWinRM},
		{name: "a chosen transport stays",
			p:        Plan{Transport: SchemeWinRMS, TransportSet: true, Args: []string{"@ALL.TXT", "setup.exe"}},
			wantArgs: []string{"@ALL.TXT"}, wantInstaller: "setup.exe", wantCommand: InstallerCommand(nil), wantTransport: SchemeWinRMS},
		{name: "a preset keeps its command",
			p:        Plan{Transport: SchemeSSH, Preset: "sh", List: "ALL.TXT", Args: []string{"agent.sh"}},
			wantArgs: nil, wantInstaller: "agent.sh", wantCommand: "", wantTransport: SchemeSSH},
		{name: "--installer given: the arguments are hosts",
			p:        Plan{Transport: SchemeSSH, Installer: "a.sh", Args: []string{"@ALL.TXT", "host2"}},
			wantArgs: []string{"@ALL.TXT", "host2"}, wantInstaller: "a.sh", wantTransport: SchemeSSH},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			p.ApplyPsexec()
			if strings.Join(p.Args, " ") != strings.Join(tc.wantArgs, " ") || p.Installer != tc.wantInstaller || p.Command != tc.wantCommand || p.Transport != tc.wantTransport {
				t.Errorf("got args %q installer %q command %q transport %s", p.Args, p.Installer, p.Command, p.Transport)
			}
		})
	}
}

func TestPlanRefusals(t *testing.T) {
	dir := t.TempDir()
	inst := filepath.Join(dir, "agent.sh")
	os.WriteFile(inst, []byte("echo hi\n"), 0o644)
	for _, tc := range []struct {
		name string
		p    Plan
		call func(p *Plan) error
		want string
	}{
		{"unknown transport", Plan{Transport: "telnet"}, (*Plan).Check, `--transport "telnet"`},
		{"retry-from with resume", Plan{Transport: SchemeSSH, RetryFrom: "a.csv", Resume: "b.csv"}, (*Plan).Check, "do not go together"},
		{"queue with hosts", Plan{Transport: SchemeSSH, FromQueue: true, Args: []string{"h1"}}, (*Plan).Check, "--queue takes its hosts"},
		{"retry-from with hosts", Plan{Transport: SchemeSSH, RetryFrom: "a.csv", Args: []string{"h1"}},
			func(p *Plan) error { _, _, err := p.Hosts(); return err }, "give no other hosts"},
		{"a bad queued host", Plan{Transport: SchemeSSH, FromQueue: true, Queued: []string{"bad host name"}},
			func(p *Plan) error { _, _, err := p.Hosts(); return err }, `queued host "bad host name"`},
		{"preset and command", Plan{Mode: Copy, Installer: inst, Preset: "sh", Command: "x"},
			func(p *Plan) error { _, err := p.Job(); return err }, "--preset and --command"},
		{"unknown preset", Plan{Mode: Copy, Installer: inst, Preset: "rpm"},
			func(p *Plan) error { _, err := p.Job(); return err }, `--preset "rpm"`},
		{"copy without an installer", Plan{Mode: Copy, Command: "x"},
			func(p *Plan) error { _, err := p.Job(); return err }, "--installer FILE is required"},
		{"msi preset without the server's MSI", Plan{Mode: Copy, Preset: "msi", ServerMSI: filepath.Join(dir, "missing.msi")},
			func(p *Plan) error { _, err := p.Job(); return err }, "missing.msi, which is missing"},
		{"missing password file", Plan{PasswordFile: filepath.Join(dir, "nope")}, (*Plan).ReadPassword, "--password-file"},
		{"unreadable key", Plan{Transport: SchemeSSH, Keys: []string{inst}, KnownHosts: filepath.Join(dir, "kh")},
			func(p *Plan) error { _, err := p.Dialers([]Host{{Name: "h"}}); return err }, "--key " + inst},
		{"missing WinRM CA", Plan{Transport: SchemeWinRM, WinRMCA: filepath.Join(dir, "ca.pem")},
			func(p *Plan) error { _, err := p.Dialers([]Host{{Name: "h"}}); return err }, "--winrm-ca"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			err := tc.call(&p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

func TestPlanHostsFromResponses(t *testing.T) {
	dir := t.TempDir()
	resp := filepath.Join(dir, "push.csv")
	w, err := OpenResponse(resp, "csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Record{{Host: "ssh://h1", Outcome: OK, Attempts: 1}, {Host: "ssh://h2", Outcome: Unreachable, Attempts: 3}} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()

	p := &Plan{Transport: SchemeSSH, RetryFrom: resp}
	hosts, note, err := p.Hosts()
	if err != nil || len(hosts) != 1 || hosts[0].Name != "h2" || note != "" {
		t.Errorf("retry-from: %v %q %v", hosts, note, err)
	}
	p = &Plan{Transport: SchemeSSH, Args: []string{"ssh://h1", "ssh://h2", "ssh://h3"}, Resume: resp}
	hosts, note, err = p.Hosts()
	if err != nil || len(hosts) != 1 || hosts[0].Name != "h3" || !strings.Contains(note, "2 of 3 hosts already finished") {
		t.Errorf("resume: %v %q %v", hosts, note, err)
	}
	if path, format := p.ResponsePath(time.Now()); path != resp || format != "csv" {
		t.Errorf("a resumed run writes on to %s (%s), not %s", path, format, resp)
	}
	if path, format := (&Plan{}).ResponsePath(time.Date(2026, 12, 5, 20, 1, 2, 0, time.UTC)); path != "push-20261205-200102.csv" || format != "csv" {
		t.Errorf("default response file %s (%s)", path, format)
	}
	p = &Plan{Transport: SchemeSSH, FromQueue: true}
	if hosts, note, err := p.Hosts(); err != nil || len(hosts) != 0 || !strings.Contains(note, "nothing to do") {
		t.Errorf("empty queue: %v %q %v", hosts, note, err)
	}
}

func TestPlanJobAndDryRun(t *testing.T) {
	dir := t.TempDir()
	inst := filepath.Join(dir, "agent.sh")
	os.WriteFile(inst, []byte("echo hi\n"), 0o644)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("s3cret\r\n"), 0o600)
	p := &Plan{Transport: SchemeSSH, Mode: Copy, Installer: inst, Preset: "sh", Server: "http://srv/ocsinventory", Activation: "ABCDEFGHIJ", PasswordFile: pw, User: "root"}
	if err := p.ReadPassword(); err != nil || p.Password != "s3cret" {
		t.Fatalf("password %q, %v", p.Password, err)
	}
	j, err := p.Job()
	if err != nil {
		t.Fatal(err)
	}
	if j.Size != 8 || len(j.SHA256) != 64 || j.Command != Presets["sh"] {
		t.Errorf("job %+v", j)
	}
	var out bytes.Buffer
	host, _ := ParseHost("ssh://root@10.0.0.5")
	if err := p.DryRun(&out, []Host{host}, j, 10); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "s3cret") || !strings.Contains(out.String(), "********") || !strings.Contains(out.String(), "10.0.0.5") {
		t.Errorf("dry run:\n%s", out.String())
	}

	// Pull mode with a local installer: its digest, its base name.
	p = &Plan{Transport: SchemeSSH, Mode: Pull, Installer: inst, URL: "https://srv/agent.sh", Command: "sh {file}"}
	if j, err = p.Job(); err != nil || j.Installer != "agent.sh" || j.SHA256 == "" {
		t.Errorf("pull job %+v, %v", j, err)
	}
}

func TestProgressSanitizes(t *testing.T) {
	var out bytes.Buffer
	p := NewProgress(&out, 2, false)
	host, _ := ParseHost("ssh://h1")
	p.Event(Event{Host: host, Attempt: 1, Err: errors.New("refused \x1b]0;pwned\x07"), RetryIn: time.Second})
	p.Event(Event{Done: true, Record: Record{Host: "ssh://h1", Outcome: InstallFailed, Attempts: 2, Error: "exit 1603 \u202e\u009b31m"}})
	p.Event(Event{Done: true, Record: Record{Host: "ssh://h2", Outcome: Unknown, Attempts: 1}})
	p.Finish()
	var sum bytes.Buffer
	WriteSummary(&sum, Summary{InstallFailed: 1, Unknown: 1}, p.Failures(), "r.csv", time.Second)
	for _, s := range []string{out.String(), sum.String()} {
		if strings.ContainsAny(s, "\x1b\x07\u202e\u009b") {
			t.Errorf("control characters reached the terminal: %q", s)
		}
	}
	if !strings.Contains(out.String(), "[1/2] ssh://h1 install_failed after 2 attempts") || !strings.Contains(sum.String(), "unknown") {
		t.Errorf("progress:\n%s\nsummary:\n%s", out.String(), sum.String())
	}
}
