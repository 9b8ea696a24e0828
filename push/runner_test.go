package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeHost scripts one host of an in-memory fleet.
type fakeHost struct {
	downFor  int // the first N dials are refused
	badAuth  bool
	exitCode int
	dials    atomic.Int32
	files    map[string][]byte
	mu       sync.Mutex
	ran      []string
}

type fakeFleet struct {
	hosts  map[string]*fakeHost
	active atomic.Int32
	peak   atomic.Int32
}

func (f *fakeFleet) Dial(ctx context.Context, h Host) (Transport, error) {
	fh := f.hosts[h.Name]
	n := int(fh.dials.Add(1))
	switch {
	case n <= fh.downFor:
		return nil, &UnreachableError{errors.New("connection refused")}
	case fh.badAuth:
		return nil, &AuthError{errors.New("bad password")}
	}
	a := f.active.Add(1)
	for {
		p := f.peak.Load()
		if a <= p || f.peak.CompareAndSwap(p, a) {
			break
		}
	}
	return &fakeTransport{f: f, h: fh}, nil
}

type fakeTransport struct {
	f *fakeFleet
	h *fakeHost
}

func (t *fakeTransport) Family() string { return "sh" }
func (t *fakeTransport) Close() error   { t.f.active.Add(-1); return nil }
func (t *fakeTransport) Upload(ctx context.Context, r io.Reader, size int64, remote string) error {
	b, _ := io.ReadAll(r)
	t.h.mu.Lock()
	t.h.files[remote] = b
	t.h.mu.Unlock()
	time.Sleep(2 * time.Millisecond) // let the workers overlap
	return nil
}
func (t *fakeTransport) Run(ctx context.Context, cmd string) (Exec, error) {
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	t.h.ran = append(t.h.ran, cmd)
	if strings.Contains(cmd, "sha256sum ") {
		for _, b := range t.h.files {
			return Exec{Stdout: []byte(fmt.Sprintf("sha256 %x\n", sha(b)))}, nil
		}
	}
	if strings.HasPrefix(cmd, "if [ -e ") && strings.HasSuffix(cmd, "; true") {
		return Exec{}, nil // the marker check of a retry: no marker
	}
	return Exec{ExitCode: t.h.exitCode, Stderr: []byte("installer log\n")}, nil
}

func newFleet(n int) *fakeFleet {
	f := &fakeFleet{hosts: map[string]*fakeHost{}}
	for i := 0; i < n; i++ {
		f.hosts[fmt.Sprintf("h%02d", i)] = &fakeHost{files: map[string][]byte{}}
	}
	return f
}

func (f *fakeFleet) list() []Host {
	var hs []Host
	for i := 0; i < len(f.hosts); i++ {
		hs = append(hs, Host{Name: fmt.Sprintf("h%02d", i)})
	}
	return hs
}

func testJob(t *testing.T) *Job {
	t.Helper()
	p := filepath.Join(t.TempDir(), "agent.sh")
	os.WriteFile(p, []byte("#!/bin/sh\necho installed\n"), 0o755)
	j := &Job{Mode: Copy, Installer: p, Command: Presets["sh"], Server: "http://server:8080/ocsinventory", Activation: "ABCDEFGHIJ"}
	if err := j.Prepare(); err != nil {
		t.Fatal(err)
	}
	return j
}

func TestRunnerOutcomes(t *testing.T) {
	f := newFleet(20)
	f.hosts["h01"].downFor = 1    // down, back for the retry
	f.hosts["h02"].downFor = 100  // never comes back
	f.hosts["h03"].badAuth = true // never retried
	f.hosts["h04"].exitCode = 1603
	f.hosts["h05"].exitCode = 3010
	resp := filepath.Join(t.TempDir(), "response.csv")
	out, err := OpenResponse(resp, "csv")
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Dialers: map[Scheme]Dialer{SchemeSSH: f}, Default: SchemeSSH, Job: testJob(t),
		Concurrency: 4, Retries: 2, RetryWait: 10 * time.Millisecond, Out: out}
	sum, err := r.Run(context.Background(), f.list())
	out.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum[OK] != 17 || sum[Unreachable] != 1 || sum[AuthFailed] != 1 || sum[InstallFailed] != 1 {
		t.Fatalf("summary %v", sum)
	}
	if p := f.peak.Load(); p > 4 {
		t.Errorf("%d hosts at once, limit 4", p)
	}
	recs, err := ReadResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 20 {
		t.Fatalf("%d records", len(recs))
	}
	by := Latest(recs)
	check := func(h string, o Outcome, attempts int) {
		t.Helper()
		rec := by["ssh://"+h]
		if rec.Outcome != o || rec.Attempts != attempts {
			t.Errorf("%s: %s after %d attempts, want %s after %d (%s)", h, rec.Outcome, rec.Attempts, o, attempts, rec.Error)
		}
	}
	check("h00", OK, 1)
	check("h01", OK, 2)
	check("h02", Unreachable, 3)
	check("h03", AuthFailed, 1)
	check("h04", InstallFailed, 1)
	check("h05", OK, 1)
	if rec := by["ssh://h04"]; rec.ExitCode == nil || *rec.ExitCode != 1603 || !strings.Contains(rec.Error, "installer log") {
		t.Errorf("h04 record %+v", rec)
	}
	if rec := by["ssh://h05"]; !rec.Reboot {
		t.Errorf("h05 record %+v", rec)
	}
	// The installer was checked before it ran, and ran with the server and
	// code in its environment.
	ran := f.hosts["h00"].ran
	if len(ran) != 2 || !strings.Contains(ran[0], "sha256sum '/tmp/muster-push/agent.sh'") ||
		!strings.Contains(ran[1], "{ MUSTER_SERVER='http://server:8080/ocsinventory' MUSTER_ACTIVATION='ABCDEFGHIJ' sh '/tmp/muster-push/agent.sh'; }") ||
		!strings.Contains(ran[1], "/tmp/muster-push/agent.sh.run-0.state") {
		t.Errorf("commands %q", ran)
	}
	// --retry-from picks the four that were not ok.
	again := NotOK(recs)
	var names []string
	for _, h := range again {
		names = append(names, h.Name)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "h02,h03,h04" {
		t.Errorf("retry-from: %v", names)
	}
}

func TestRunnerRetriesFailedOnlyWhenAsked(t *testing.T) {
	f := newFleet(1)
	f.hosts["h00"].exitCode = 1
	r := &Runner{Dialers: map[Scheme]Dialer{SchemeSSH: f}, Default: SchemeSSH, Job: testJob(t), Retries: 2, RetryWait: time.Millisecond}
	r.Run(context.Background(), f.list())
	if n := f.hosts["h00"].dials.Load(); n != 1 {
		t.Fatalf("failed install retried without --retry-failed: %d dials", n)
	}
	r.RetryFailed = true
	f.hosts["h00"].dials.Store(0)
	r.Run(context.Background(), f.list())
	if n := f.hosts["h00"].dials.Load(); n != 3 {
		t.Fatalf("with --retry-failed: %d dials, want 3", n)
	}
}

func TestRunnerInterruptedThenResumed(t *testing.T) {
	f := newFleet(30)
	resp := filepath.Join(t.TempDir(), "r.jsonl")
	out, _ := OpenResponse(resp, "jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	var done atomic.Int32
	r := &Runner{Dialers: map[Scheme]Dialer{SchemeSSH: f}, Default: SchemeSSH, Job: testJob(t), Concurrency: 2, Out: out,
		Progress: func(e Event) {
			if e.Done && done.Add(1) == 10 {
				cancel()
			}
		}}
	r.Run(ctx, f.list())
	out.Close()
	recs, err := ReadResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 10 || len(recs) >= 30 {
		t.Fatalf("%d records after the interruption", len(recs))
	}
	left := Unfinished(f.list(), recs, SchemeSSH)
	if len(left)+len(recs) != 30 {
		t.Fatalf("%d left + %d done != 30", len(left), len(recs))
	}
	before := map[string]int32{}
	for n, h := range f.hosts {
		before[n] = h.dials.Load()
	}
	out, _ = OpenResponse(resp, "jsonl")
	r.Out = out
	r.Progress = nil
	if _, err := r.Run(context.Background(), left); err != nil {
		t.Fatal(err)
	}
	out.Close()
	recs, _ = ReadResponse(resp)
	if len(recs) != 30 || len(Latest(recs)) != 30 {
		t.Fatalf("after resume: %d records, %d hosts", len(recs), len(Latest(recs)))
	}
	for _, rec := range recs[:len(recs)-len(left)] {
		h, _ := ParseHost(rec.Host)
		if f.hosts[h.Name].dials.Load() != before[h.Name] {
			t.Errorf("resume touched finished host %s", h.Name)
		}
	}
}

func TestResponseFileSurvivesATornLine(t *testing.T) {
	for _, format := range []string{"csv", "jsonl"} {
		p := filepath.Join(t.TempDir(), "r."+format)
		w, _ := OpenResponse(p, format)
		code := 0
		w.Write(Record{Host: "ssh://a:22", Transport: SchemeSSH, Outcome: OK, Attempts: 1, ExitCode: &code, Start: time.Now()})
		w.Close()
		f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString(`ssh://b:22,ssh,o`) // a crash mid-write
		f.Close()
		recs, err := ReadResponse(p)
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s: %d records, %v", format, len(recs), err)
		}
	}
	p := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(p, []byte("host,transport,outcome,attempts,exit_code,reboot,error,start,duration_ms\nssh://a,ssh,maybe,1,,false,,2026-01-01T00:00:00Z,5\n"), 0o644)
	if _, err := ReadResponse(p); err == nil || !strings.Contains(err.Error(), "bad.csv:2") {
		t.Fatalf("bad outcome: %v", err)
	}
}

func TestJobPrepare(t *testing.T) {
	dir := t.TempDir()
	msi := filepath.Join(dir, "muster-agent_ABCDEFGHIJ.msi")
	os.WriteFile(msi, []byte("msi"), 0o644)
	cases := []struct {
		name string
		job  Job
		err  string
	}{
		{"code from the file name", Job{Mode: Copy, Installer: msi, Command: Presets["msi"]}, ""},
		{"missing installer", Job{Mode: Copy, Installer: filepath.Join(dir, "nope"), Command: "x"}, "no such file"},
		{"bad code", Job{Mode: Copy, Installer: msi, Command: Presets["msi"], Activation: "abc"}, "10 letters"},
		{"pull without digest", Job{Mode: Pull, URL: "https://s/a.exe", Command: "x"}, "SHA-256"},
		{"pull with a bad URL", Job{Mode: Pull, URL: "ftp://s/a", SHA256: strings.Repeat("a", 64), Command: "x"}, "http(s)"},
		{"unknown variable", Job{Mode: Copy, Installer: msi, Command: "{file} {nope}"}, "unknown variable"},
		{"server with shell characters", Job{Mode: Copy, Installer: msi, Command: Presets["ocs"], Server: "http://x;rm -rf /"}, "shell characters"},
		{"{server} without a server", Job{Mode: Copy, Installer: msi, Command: Presets["ocs"]}, "--server"},
		{"wrong digest", Job{Mode: Copy, Installer: msi, Command: "x", SHA256: strings.Repeat("0", 64)}, "not the"},
	}
	for _, c := range cases {
		j := c.job
		err := j.Prepare()
		if c.err == "" {
			if err != nil || j.Activation != "ABCDEFGHIJ" || j.Size != 3 {
				t.Errorf("%s: %v %+v", c.name, err, j)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.err)
		}
	}
	j := Job{Mode: Copy, Installer: msi, Command: Presets["msi"]}
	j.Prepare()
	// On Windows the .msi goes to install.ps1 (msiexec /i … /qn /norestart
	// /l*v LOG), with the preset's arguments after.
	in := j.installFor("windows", Host{Name: "pc1"})
	file := `C:\Windows\Temp\muster-push\muster-agent_ABCDEFGHIJ.msi`
	if in.File != file || in.Args != "ACTIVATION=ABCDEFGHIJ" || in.Log != file+".log" || !strings.HasPrefix(in.Marker, file+".run-") {
		t.Errorf("msi install %+v", in)
	}
}
