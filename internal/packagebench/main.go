//go:build linux

// Command packagebench measures how muster's server serves package
// fragments beside Apache 2.4 serving the very same files statically (as
// an OCS server serves its download/ directory), through internal/bench:
// the same clients (n curl processes, each fetching every fragment over
// one kept-alive connection and hashing what it got), on loopback, the
// sides taking turns. Each downloader's MD5 of the whole package must be
// the package's before a ratio is printed. It also prints each server's
// CPU time per run and muster's peak RSS.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"muster/internal/bench"
	"muster/packages"
)

func main() {
	bin := flag.String("muster", "bin/muster", "muster binary")
	sizeMiB := flag.Int("size", 256, "package size in MiB")
	fragMiB := flag.Int("frag", 4, "fragment size in MiB")
	n := flag.Int("downloaders", 20, "concurrent downloaders")
	runs := flag.Int("runs", 3, "runs of each side")
	flag.Parse()
	if err := run(*bin, int64(*sizeMiB)<<20, *fragMiB, *n, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "packagebench:", err)
		os.Exit(1)
	}
}

func run(bin string, size int64, fragMiB, n, runs int) error {
	if _, err := exec.LookPath("curl"); err != nil {
		return fmt.Errorf("curl is needed as the reference: %w", err)
	}
	dir, err := os.MkdirTemp("", "packagebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// The payload is random (incompressible) bytes taken as the archive
	// itself: serving does not look inside.
	payload := filepath.Join(dir, "payload.tar.gz")
	if err := randomFile(payload, size); err != nil {
		return err
	}
	data := filepath.Join(dir, "data")
	out, err := exec.Command(bin, "-o", "json", "--data-dir", data, "package", "build", payload,
		"--action", "store", "--command", "/opt/x", "--proto", "HTTP", "--frag-size", fmt.Sprintf("%dMiB", fragMiB)).Output()
	if err != nil {
		return fmt.Errorf("package build: %w", err)
	}
	os.Remove(payload)
	var info packages.Info
	if err := json.Unmarshal(out, &info); err != nil {
		return err
	}
	srv := exec.Command(bin, "-o", "json", "server", "--listen", "127.0.0.1:0", "--data-dir", data)
	stdout, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	var ready struct{ Listen string }
	dec := json.NewDecoder(bufio.NewReader(stdout))
	if err := dec.Decode(&ready); err != nil {
		return fmt.Errorf("server ready line: %w", err)
	}
	go io.Copy(io.Discard, stdout)
	apache, apachePID, stopApache, err := startApache(dir, filepath.Join(data, "packages"))
	if err != nil {
		return err
	}
	defer stopApache()
	total := int64(n) * info.Size
	fmt.Printf("package %d MiB in %d fragments of %d MiB, %d downloaders\n", info.Size>>20, info.Frags, fragMiB, n)
	cpu := map[string][]time.Duration{}
	side := func(name, base string, pids func() []int) bench.Side {
		return bench.Side{Name: name, Run: func(ctx context.Context) (bench.Result, error) {
			cpu0 := bench.CPU(pids())
			start := time.Now()
			ok, err := curlDownloaders(base, &info, n)
			wall := time.Since(start)
			cpu[name] = append(cpu[name], bench.CPU(pids())-cpu0)
			if err != nil {
				return bench.Result{}, err
			}
			return bench.Result{Elapsed: wall, Output: fmt.Sprintf("%d of %d downloaders got all %d fragments with the package's MD5", ok, n, info.Frags)}, nil
		}}
	}
	c := bench.Comparison{
		Name: "package fragments served to agents",
		Same: fmt.Sprintf("the same %d MiB package in %d fragment files on the same disk, served on loopback over HTTP; the same clients: %d curl processes, each fetching every fragment over one kept-alive connection and hashing it (MD5); output: the downloaders whose MD5 matched; both servers use sendfile", info.Size>>20, info.Frags, n),
		Sides: []bench.Side{
			side("muster server", "http://"+ready.Listen+"/download/"+info.ID+"/", func() []int { return []int{srv.Process.Pid} }),
			side("Apache 2.4 static", apache+"/download/"+info.ID+"/", func() []int { return bench.ProcessTree(apachePID) }),
		},
		Runs: runs, Work: float64(total) / (1 << 20), Unit: "MiB",
	}
	rep, err := bench.Run(context.Background(), c, os.Stderr)
	rep.Print(os.Stdout)
	for _, sd := range c.Sides {
		fmt.Printf("   %-18s server CPU per run: median %v\n", sd.Name, medianOf(cpu[sd.Name]).Round(time.Millisecond))
	}
	fmt.Printf("   muster server peak RSS: %d MiB\n", peakRSS(srv.Process.Pid)>>10)
	return err
}

func medianOf(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// startApache runs a private Apache (event MPM, sendfile on) serving root
// at /download/ on a free loopback port.
func startApache(dir, root string) (url string, pid int, stop func(), err error) {
	if _, err := exec.LookPath("apache2"); err != nil {
		return "", 0, nil, fmt.Errorf("apache2 is the anchor (make test-deps or scripts/ocs-reference.sh up): %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", 0, nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	// www-data must read the fragments.
	for p := root; strings.HasPrefix(p, dir) || p == dir; p = filepath.Dir(p) {
		os.Chmod(p, 0o755)
		if p == dir {
			break
		}
	}
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			if fi.IsDir() {
				os.Chmod(p, 0o755)
			} else {
				os.Chmod(p, 0o644)
			}
		}
		return nil
	})
	mods := "/usr/lib/apache2/modules/"
	conf := filepath.Join(dir, "apache.conf")
	cfg := fmt.Sprintf(`LoadModule mpm_event_module %[1]smod_mpm_event.so
LoadModule authz_core_module %[1]smod_authz_core.so
LoadModule alias_module %[1]smod_alias.so
ServerName localhost
Listen %[2]s
PidFile %[3]s/apache.pid
ErrorLog %[3]s/apache-error.log
User www-data
Group www-data
DocumentRoot %[3]s
Alias /download/ %[4]s/
<Directory %[4]s>
  Require all granted
</Directory>
EnableSendfile On
KeepAlive On
MaxKeepAliveRequests 0
StartServers 1
ThreadsPerChild 64
MaxRequestWorkers 64
`, mods, addr, dir, root)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		return "", 0, nil, err
	}
	cmd := exec.Command("apache2", "-f", conf, "-DFOREGROUND")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	stop = func() { cmd.Process.Kill(); cmd.Wait() }
	for i := 0; i < 100; i++ { // up to 10 s for the port to answer
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr, cmd.Process.Pid, stop, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	b, _ := os.ReadFile(filepath.Join(dir, "apache-error.log"))
	return "", 0, nil, fmt.Errorf("apache did not answer on %s: %s", addr, b)
}

func randomFile(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// curlDownloaders run one curl per downloader over every fragment (one
// connection reused), each piping what it got into md5sum, and return how
// many got the package's digest.
func curlDownloaders(base string, info *packages.Info, n int) (int, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	errs := make(chan error, n)
	url := fmt.Sprintf("%s%s-[1-%d]", base, info.ID, info.Frags)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := exec.Command("bash", "-c", `set -o pipefail; curl -sf "$1" | md5sum`, "bash", url).Output()
			if err != nil {
				errs <- fmt.Errorf("curl %s: %w", url, err)
				return
			}
			if strings.Fields(string(out))[0] == info.Digest {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	return ok, <-errs
}

// peakRSS is a process's peak resident set, KiB.
func peakRSS(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}
