//go:build linux

// Command pushbench measures muster push beside parallel-ssh on the same
// test bed, through internal/bench: a 10 MB installer to 200 SSH hosts, 50
// at once, one SSH connection per host on both sides (parallel-ssh -I
// streams the installer into the same session that checks its SHA-256 and
// runs it), one try, the sides taking turns. What each side did is read
// from the hosts' disks, not from its own report: the installer's digest
// and the mark it leaves when it runs. WinRM is measured by
// internal/winrmbench against pywinrm. Needs root.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"muster/internal/bench"
	"muster/internal/testbed"
	"muster/push"
)

func main() {
	bin := flag.String("muster", "bin/muster", "muster binary")
	sshHosts := flag.Int("ssh-hosts", 200, "SSH hosts")
	size := flag.Int("size", 10<<20, "installer size in bytes")
	runs := flag.Int("runs", 3, "runs of each SSH side (median)")
	flag.Parse()
	if err := run(*bin, *sshHosts, *size, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "pushbench:", err)
		os.Exit(1)
	}
}

func run(bin string, nSSH, size, runs int) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (it builds a test bed)")
	}
	for _, tool := range []string{"parallel-ssh", "ssh"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed (make test-deps)", tool)
		}
	}
	work, err := os.MkdirTemp("", "pushbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin, _ = filepath.Abs(bin)
	fmt.Fprintf(os.Stderr, "pushbench: building a bed of %d SSH hosts...\n", nSSH)
	b, err := testbed.Up(context.Background(), testbed.Options{LANs: []testbed.LAN{
		{Prefix: netip.MustParsePrefix("10.77.0.0/24"), Hosts: nSSH, SSH: true},
	}})
	if err != nil {
		return err
	}
	defer b.Down()

	// The installer: a script that records it ran, then exits before its
	// 10 MB of payload.
	inst := filepath.Join(work, "agent.sh")
	payload := make([]byte, size)
	rand.Read(payload)
	head := "#!/bin/sh\necho installed > installed\nexit 0\n"
	installer := append([]byte(head), payload[len(head):]...)
	if err := os.WriteFile(inst, installer, 0o644); err != nil {
		return err
	}
	var sshList []string
	for _, h := range b.LANHosts(0) {
		sshList = append(sshList, h.IP)
	}
	hostsFile := filepath.Join(work, "hosts.txt")
	os.WriteFile(hostsFile, []byte(strings.Join(sshList, "\n")+"\n"), 0o644)
	clean := func() {
		for _, h := range b.LANHosts(0) {
			os.RemoveAll(filepath.Join(h.Home, "bench"))
			os.Remove(filepath.Join(h.Home, "installed"))
		}
	}
	sshOpts := "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i " + b.SSHKeyPath()

	// done reads, from every host's disk, whether the installer is there
	// with its digest and ran: the output both sides are compared on.
	want := sha256.Sum256(installer)
	done := func(dir func(testbed.Host) string) string {
		ok := 0
		for _, h := range b.LANHosts(0) {
			f, err := os.ReadFile(filepath.Join(dir(h), "agent.sh"))
			_, ran := os.Stat(filepath.Join(h.Home, "installed"))
			if err == nil && ran == nil && sha256.Sum256(f) == want {
				ok++
			}
		}
		return fmt.Sprintf("installer with its SHA-256 on disk and run on %d of %d hosts", ok, nSSH)
	}
	remote := func(h testbed.Host) string { return filepath.Join(h.Home, "bench") }
	musterSide := bench.Side{Name: "muster push", Run: func(ctx context.Context) (bench.Result, error) {
		clean()
		resp := filepath.Join(work, fmt.Sprintf("resp-%d.csv", time.Now().UnixNano()))
		cmd := b.Command(bin, "push", "-f", hostsFile, "-n", "50", "--user", testbed.SSHUser, "--key", b.SSHKeyPath(),
			"--known-hosts", filepath.Join(work, "known_hosts"), "--remote-dir", "bench", "--command", "sh '{file}'", "--installer", inst,
			"--response", resp, "--retries", "0", "--cleanup=false")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		if err != nil {
			return bench.Result{}, fmt.Errorf("muster push: %v\n%s", err, lastLines(string(out), 5))
		}
		recs, err := push.ReadResponse(resp)
		if err != nil {
			return bench.Result{}, err
		}
		ok := 0
		for _, r := range recs {
			if r.Outcome == push.OK {
				ok++
			}
		}
		got := done(remote)
		if want := fmt.Sprintf("on %d of", ok); !strings.Contains(got, want) {
			return bench.Result{}, fmt.Errorf("muster's response file says %d ok, the disks say: %s", ok, got)
		}
		return bench.Result{Elapsed: wall, Output: got}, nil
	}}
	psshSide := bench.Side{Name: "parallel-ssh -I", Run: func(ctx context.Context) (bench.Result, error) {
		clean()
		in, err := os.Open(inst)
		if err != nil {
			return bench.Result{}, err
		}
		defer in.Close()
		script := fmt.Sprintf("mkdir -p bench && cat > bench/agent.sh && echo '%x  bench/agent.sh' | sha256sum -c --quiet && sh bench/agent.sh", want)
		cmd := b.Command("parallel-ssh", "-I", "-h", hostsFile, "-l", testbed.SSHUser, "-p", "50", "-t", "0", "-x", sshOpts, script)
		cmd.Stdin = in
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		if err != nil {
			return bench.Result{}, fmt.Errorf("parallel-ssh: %v\n%s", err, lastLines(string(out), 5))
		}
		return bench.Result{Elapsed: wall, Output: done(remote)}, nil
	}}
	rep, err := bench.Run(context.Background(), bench.Comparison{
		Name:  fmt.Sprintf("push over SSH, %d hosts, 50 at once", nSSH),
		Same:  fmt.Sprintf("the same %.0f MB installer to the same %d OpenSSH hosts, 50 at once, key auth, one SSH connection per host, copy + SHA-256 check + run, 1 try, the installer left in place; output read from the hosts' disks; muster also checks host keys and fsyncs a response row per host", float64(size)/(1<<20), nSSH),
		Sides: []bench.Side{musterSide, psshSide},
		Runs:  runs, Goal: 0.5,
	}, os.Stderr)
	rep.Print(os.Stdout)
	if err == nil && !strings.Contains(rep.Stats[0].Output, fmt.Sprintf("on %d of %d", nSSH, nSSH)) {
		err = fmt.Errorf("not every host installed: %s", rep.Stats[0].Output)
	}
	return err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
