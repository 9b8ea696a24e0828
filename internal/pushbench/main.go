//go:build linux

// Command pushbench measures muster push beside parallel-scp +
// parallel-ssh on the same test bed, in the same run: a 10 MB installer to
// 200 SSH hosts, 50 at once, each side copying it, checking its SHA-256 and
// running it. WinRM is measured by internal/winrmbench against pywinrm.
// Needs root.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

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
	for _, tool := range []string{"parallel-ssh", "parallel-scp", "ssh", "curl"} {
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
	if err := os.WriteFile(inst, append([]byte(head), payload[len(head):]...), 0o644); err != nil {
		return err
	}
	pw := filepath.Join(work, "password")
	os.WriteFile(pw, []byte(testbed.SSHPassword), 0o600)
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
	installed := func(hosts []testbed.Host, dir func(testbed.Host) string) int {
		n := 0
		for _, h := range hosts {
			if _, err := os.Stat(filepath.Join(dir(h), "installed")); err == nil {
				n++
			}
		}
		return n
	}
	home := func(h testbed.Host) string { return h.Home }
	sshOpts := "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i " + b.SSHKeyPath()

	type result struct {
		wall time.Duration
		ok   int
	}
	muster := func(args ...string) (result, error) {
		resp := filepath.Join(work, fmt.Sprintf("resp-%d.csv", time.Now().UnixNano()))
		base := []string{bin, "push", "--user", testbed.SSHUser, "--password-file", pw, "--key", b.SSHKeyPath(),
			"--known-hosts", filepath.Join(work, "known_hosts"), "--remote-dir", "bench", "--command", "sh '{file}'", "--installer", inst,
			"--response", resp, "--retries", "0"}
		cmd := b.Command(append(base, args...)...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		if err != nil {
			return result{}, fmt.Errorf("muster push: %v\n%s", err, lastLines(string(out), 5))
		}
		recs, _ := push.ReadResponse(resp)
		ok := 0
		for _, r := range recs {
			if r.Outcome == push.OK {
				ok++
			}
		}
		return result{wall, ok}, nil
	}
	psshSide := func() (result, error) {
		start := time.Now()
		steps := [][]string{
			{"parallel-ssh", "-h", hostsFile, "-l", testbed.SSHUser, "-p", "50", "-x", sshOpts, "mkdir -p bench"},
			{"parallel-scp", "-h", hostsFile, "-l", testbed.SSHUser, "-p", "50", "-x", sshOpts, inst, "bench/agent.sh"},
			{"parallel-ssh", "-h", hostsFile, "-l", testbed.SSHUser, "-p", "50", "-x", sshOpts, "sha256sum bench/agent.sh && sh bench/agent.sh"},
		}
		for _, s := range steps {
			if out, err := b.Command(s...).CombinedOutput(); err != nil {
				return result{}, fmt.Errorf("%s: %v\n%s", s[0], err, lastLines(string(out), 5))
			}
		}
		return result{time.Since(start), installed(b.LANHosts(0), home)}, nil
	}
	median := func(f func() (result, error)) (result, error) {
		var rs []result
		for i := 0; i < runs; i++ {
			clean()
			r, err := f()
			if err != nil {
				return result{}, err
			}
			rs = append(rs, r)
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].wall < rs[j].wall })
		return rs[len(rs)/2], nil
	}

	fmt.Fprintln(os.Stderr, "pushbench: muster push over SSH...")
	m, err := median(func() (result, error) { return muster("-f", hostsFile, "-n", "50") })
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "pushbench: parallel-ssh + parallel-scp...")
	p, err := median(psshSide)
	if err != nil {
		return err
	}

	mb := float64(size) / (1 << 20)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "push of a %.0f MB installer\tconcurrency\thosts ok\twall (median of %d)\tthroughput\tratio\ttarget\t\n", mb, runs)
	verdict := "met"
	ratio := float64(m.wall) / float64(p.wall)
	if ratio > 0.5 {
		verdict = "MISSED"
	}
	fmt.Fprintf(tw, "muster push (SSH, copy + SHA-256 + run)\t50\t%d/%d\t%v\t%.0f MB/s\t%.2f×\t≤0.5× %s\t\n", m.ok, nSSH, m.wall.Round(time.Millisecond), mb*float64(m.ok)/m.wall.Seconds(), ratio, verdict)
	fmt.Fprintf(tw, "parallel-ssh mkdir + parallel-scp + parallel-ssh sha256sum && run\t50\t%d/%d\t%v\t%.0f MB/s\t\t\t\n", p.ok, nSSH, p.wall.Round(time.Millisecond), mb*float64(p.ok)/p.wall.Seconds())
	return tw.Flush()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
