//go:build unix

// Command winrmbench measures muster push to emulated Windows hosts beside
// a pywinrm thread pool (Ansible's engine) in the same run. Same work on
// both sides: the same 10 MB installer to the same hosts, NTLM with message
// encryption over HTTP, one shell per host, upload.ps1 fed through stdin in
// 64 KiB chunks, hash.ps1, install.ps1 with the same arguments, one try
// each, a 20 s OperationTimeout; muster also fsyncs a response row per
// host, the pool writes nothing. Sides alternate; medians, spread and the
// installed-file check of both are printed, and a ratio only when both
// sides installed on every host.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"muster/internal/bench"
	"muster/push"
	"muster/push/shell"
)

const (
	user     = "Administrator"
	password = "Bench-p4ss!"
	code     = "ABCDEFGHIJ"
)

func main() {
	bin := flag.String("muster", "bin/muster", "muster binary")
	emu := flag.String("winrmemu", "", "winrmemu binary (built if empty)")
	sizes := flag.String("hosts", "50,200", "host counts to measure")
	size := flag.Int("size", 10<<20, "installer size in bytes")
	runs := flag.Int("runs", 3, "runs of each side")
	conc := flag.Int("n", 50, "hosts at once, both sides")
	flag.Parse()
	if err := run(*bin, *emu, *sizes, *size, *runs, *conc); err != nil {
		fmt.Fprintln(os.Stderr, "winrmbench:", err)
		os.Exit(1)
	}
}

type host struct{ url, dir string }

func run(bin, emu, sizes string, size, runs, conc int) error {
	if err := exec.Command("/usr/bin/python3", "-c", "import winrm, requests_ntlm").Run(); err != nil {
		return errors.New("python3-winrm is not installed (make test-deps)")
	}
	work, err := os.MkdirTemp("", "winrmbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if emu == "" {
		emu = filepath.Join(work, "winrmemu")
		if out, err := exec.Command("go", "build", "-o", emu, "muster/internal/winrmemu/cmd/winrmemu").CombinedOutput(); err != nil {
			return fmt.Errorf("build winrmemu: %v: %s", err, out)
		}
	}
	bin, _ = filepath.Abs(bin)
	var counts []int
	max := 0
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("-hosts %q", sizes)
		}
		counts = append(counts, n)
		if n > max {
			max = n
		}
	}
	hosts, stop, err := startHosts(emu, work, max)
	defer stop()
	if err != nil {
		return err
	}
	inst := filepath.Join(work, "agent_"+code+".msi")
	payload := make([]byte, size)
	rand.Read(payload)
	head := "echo installed > installed\nexit 0\n"
	copy(payload, head)
	os.WriteFile(inst, payload, 0o644)
	sum := sha256.Sum256(payload)
	digest := hex.EncodeToString(sum[:])
	pw := filepath.Join(work, "password")
	os.WriteFile(pw, []byte(password), 0o600)
	conf := filepath.Join(work, "openssl.cnf")
	os.WriteFile(conf, []byte("openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n[provider_sect]\ndefault = default_sect\nlegacy = legacy_sect\n[default_sect]\nactivate = 1\n[legacy_sect]\nactivate = 1\n"), 0o644)
	pool, _ := filepath.Abs(filepath.Join("internal", "winrmbench", "pool.py"))
	remote := push.DefaultDirs["windows"] + `\` + filepath.Base(inst)

	failed := 0
	for _, n := range counts {
		hs := hosts[:n]
		round := 0
		side := func(name string, push func(r int) (time.Duration, error)) bench.Side {
			return bench.Side{Name: name, Run: func(ctx context.Context) (bench.Result, error) {
				clean(hs)
				round++
				d, err := push(round)
				if err != nil {
					return bench.Result{}, err
				}
				return bench.Result{Elapsed: d, Output: fmt.Sprintf("installed, with the installer's SHA-256 on disk, on %d of %d hosts", installed(hs, remote, digest), n)}, nil
			}}
		}
		rep, err := bench.Run(context.Background(), bench.Comparison{
			Name: fmt.Sprintf("push over WinRM, %d emulated Windows hosts, %d at once", n, conc),
			Same: fmt.Sprintf("the same %.0f MB installer to the same hosts (winrmemu, windows profile: PowerShell semantics, NTLM sealing required); NTLM with message encryption over HTTP; one shell per host; upload.ps1 fed on stdin in 64 KiB chunks, hash.ps1, install.ps1 with the same arguments; 1 try; 20 s OperationTimeout; output checked on disk; muster also fsyncs a response row per host, the pool writes nothing", float64(size)/(1<<20)),
			Sides: []bench.Side{
				side("muster push", func(r int) (time.Duration, error) { return musterSide(bin, work, hs, inst, pw, conc, r) }),
				side("pywinrm pool", func(r int) (time.Duration, error) { return poolSide(pool, conf, hs, inst, digest, remote, conc, r) }),
			},
			Runs: runs, Goal: 0.30,
		}, os.Stderr)
		rep.Print(os.Stdout)
		if err == nil && !strings.Contains(rep.Stats[0].Output, fmt.Sprintf("on %d of %d", n, n)) {
			err = fmt.Errorf("not every host installed: %s", rep.Stats[0].Output)
		}
		if err != nil {
			fmt.Println("   FAILED:", err)
			failed++
		}
		fmt.Println()
	}
	if failed > 0 {
		return fmt.Errorf("%d comparisons failed", failed)
	}
	return nil
}

// startHosts runs n emulators (windows profile) on loopback.
func startHosts(emu, work string, n int) ([]host, func(), error) {
	var procs []*exec.Cmd
	stop := func() {
		for _, p := range procs {
			p.Process.Kill()
			p.Wait()
		}
	}
	var hs []host
	for i := 0; i < n; i++ {
		d := filepath.Join(work, "hosts", strconv.Itoa(i))
		os.MkdirAll(d, 0o755)
		cmd := exec.Command(emu, "-listen", "127.0.0.1:0", "-user", user, "-password", password, "-dir", d)
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			return nil, stop, err
		}
		procs = append(procs, cmd)
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			return nil, stop, fmt.Errorf("emulator %d did not start: %v", i, err)
		}
		hs = append(hs, host{url: strings.TrimSpace(line), dir: d})
	}
	return hs, stop, nil
}

func clean(hs []host) {
	for _, h := range hs {
		os.RemoveAll(filepath.Join(h.dir, "C"))
		os.Remove(filepath.Join(h.dir, "installed"))
	}
}

// installed counts hosts where the installer ran and the file on the host
// has the installer's digest.
func installed(hs []host, remote, digest string) int {
	n := 0
	for _, h := range hs {
		p := filepath.Join(h.dir, filepath.FromSlash(strings.ReplaceAll("C"+remote[2:], `\`, "/")))
		b, err := os.ReadFile(p)
		sum := sha256.Sum256(b)
		if _, ierr := os.Stat(filepath.Join(h.dir, "installed")); err == nil && ierr == nil && hex.EncodeToString(sum[:]) == digest {
			n++
		}
	}
	return n
}

func musterSide(bin, work string, hs []host, inst, pw string, conc, r int) (time.Duration, error) {
	var lines []string
	for _, h := range hs {
		lines = append(lines, "winrm://"+strings.TrimSuffix(strings.TrimPrefix(h.url, "http://"), "/wsman"))
	}
	list := filepath.Join(work, "hosts.txt")
	os.WriteFile(list, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	resp := filepath.Join(work, fmt.Sprintf("resp-%d-%d.csv", len(hs), r))
	cmd := exec.Command(bin, "push", "-f", list, "-u", user, "--password-file", pw, "--installer", inst, "--preset", "msi",
		"--transport", "winrm", "-n", strconv.Itoa(conc), "--retries", "0", "--cleanup=false", "--response", resp)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("muster push: %v\n%s", err, out)
	}
	if os.Getenv("WINRMBENCH_CPU") != "" {
		fmt.Fprintf(os.Stderr, "muster CPU: user %v sys %v\n", cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime())
	}
	return d, nil
}

func poolSide(pool, conf string, hs []host, inst, digest, remote string, conc, r int) (time.Duration, error) {
	type jobHost struct {
		URL     string `json:"url"`
		Upload  string `json:"upload"`
		Hash    string `json:"hash"`
		Install string `json:"install"`
	}
	ps := shell.PowerShell{}
	fi, _ := os.Stat(inst)
	var jh []jobHost
	for _, h := range hs {
		jh = append(jh, jobHost{URL: h.url, Upload: ps.Upload(remote, fi.Size()), Hash: ps.Hash(remote),
			Install: ps.Install(shell.Install{File: remote, Args: "ACTIVATION=" + code, Marker: remote + fmt.Sprintf(".run-py%d.state", r), Log: remote + ".log"})})
	}
	job, _ := json.Marshal(map[string]any{"installer": inst, "chunk": 64 << 10, "user": user, "password": password,
		"sha256": digest, "concurrency": conc, "hosts": jh})
	cmd := exec.Command("/usr/bin/python3", pool)
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+conf)
	cmd.Stdin = bytes.NewReader(job)
	start := time.Now()
	out, err := cmd.Output()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("pywinrm pool: %v", err)
	}
	if os.Getenv("WINRMBENCH_CPU") != "" {
		fmt.Fprintf(os.Stderr, "pywinrm CPU: user %v sys %v\n", cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime())
	}
	var res struct {
		OK     int      `json:"ok"`
		Errors []string `json:"errors"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return 0, fmt.Errorf("pywinrm pool output %q", out)
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(os.Stderr, "winrmbench: pywinrm errors (first few): %v\n", res.Errors)
	}
	return d, nil
}
