//go:build linux

// Command packagebench measures how muster's server serves package
// fragments: 20 downloaders using the agent's fetch code against 20 curl
// processes fetching the same fragments from the same server, in the same
// run, on loopback. It prints each side's throughput and the ratio, and
// the server's CPU time and peak RSS while the package goes out.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"muster/packages"
)

func main() {
	bin := flag.String("muster", "bin/muster", "muster binary")
	sizeMiB := flag.Int("size", 1024, "package size in MiB")
	fragMiB := flag.Int("frag", 4, "fragment size in MiB")
	n := flag.Int("downloaders", 20, "concurrent downloaders")
	flag.Parse()
	if err := run(*bin, int64(*sizeMiB)<<20, *fragMiB, *n); err != nil {
		fmt.Fprintln(os.Stderr, "packagebench:", err)
		os.Exit(1)
	}
}

func run(bin string, size int64, fragMiB, n int) error {
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
	base := "http://" + ready.Listen + "/download/" + info.ID + "/"
	total := int64(n) * info.Size
	fmt.Printf("package %d MiB in %d fragments of %d MiB, %d downloaders, server %s\n", info.Size>>20, info.Frags, fragMiB, n, ready.Listen)

	// muster first, so the server's peak RSS is that of serving muster's
	// downloaders.
	cpu0 := cpuTime(srv.Process.Pid)
	start := time.Now()
	if err := musterDownloaders(base, &info, n); err != nil {
		return err
	}
	mWall := time.Since(start)
	mCPU := cpuTime(srv.Process.Pid) - cpu0
	rss := peakRSS(srv.Process.Pid)

	cpu0 = cpuTime(srv.Process.Pid)
	start = time.Now()
	if err := curlDownloaders(base, &info, n); err != nil {
		return err
	}
	cWall := time.Since(start)
	cCPU := cpuTime(srv.Process.Pid) - cpu0

	mbps := func(d time.Duration) float64 { return float64(total) / (1 << 20) / d.Seconds() }
	fmt.Printf("%-24s %10s %12s %14s\n", "downloaders", "wall", "MiB/s", "server CPU")
	fmt.Printf("%-24s %10s %12.0f %14s\n", "muster agent fetch", mWall.Round(time.Millisecond), mbps(mWall), mCPU.Round(time.Millisecond))
	fmt.Printf("%-24s %10s %12.0f %14s\n", "curl", cWall.Round(time.Millisecond), mbps(cWall), cCPU.Round(time.Millisecond))
	fmt.Printf("muster/curl throughput: %.2f (target >= 0.80)\n", mbps(mWall)/mbps(cWall))
	fmt.Printf("server while %d MiB went to %d agents: CPU %s, peak RSS %d MiB\n", info.Size>>20, n, mCPU.Round(time.Millisecond), rss>>10)
	return nil
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

// musterDownloaders run the agent's fetch code, one HTTP client each (as
// separate agents), every fragment in turn, into /dev/null.
func musterDownloaders(base string, info *packages.Info, n int) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &packages.Worker{HTTP: &http.Client{Transport: &http.Transport{}}}
			for f := 1; f <= info.Frags; f++ {
				if err := w.Download(context.Background(), base+packages.FragmentName(info.ID, f), os.DevNull); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// curlDownloaders run one curl per downloader over every fragment (one
// connection reused, as muster's downloaders do), into /dev/null.
func curlDownloaders(base string, info *packages.Info, n int) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	url := fmt.Sprintf("%s%s-[1-%d]", base, info.ID, info.Frags)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("curl", "-sf", url)
			if err := cmd.Run(); err != nil {
				errs <- fmt.Errorf("curl: %w", err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// cpuTime is a process's user + system time, from /proc.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
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
