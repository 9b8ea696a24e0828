//go:build linux

// Command agentbench measures one inventory run of muster's agent beside
// the OCS Unix agent (Perl) on this machine, in the same run: CPU seconds
// (user + system, children included) and peak RSS, median of several runs,
// and the ratio.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"syscall"
	"time"
)

type usage struct {
	cpu  time.Duration
	rss  int64 // KiB
	wall time.Duration
}

func measure(args ...string) (usage, error) {
	cmd := exec.Command(args[0], args[1:]...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return usage{}, fmt.Errorf("%v: %v\n%s", args, err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return usage{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), rss: ru.Maxrss, wall: time.Since(start)}, nil
}

func median(f func() (usage, error), runs int) (usage, error) {
	var us []usage
	for i := 0; i < runs; i++ {
		u, err := f()
		if err != nil {
			return usage{}, err
		}
		us = append(us, u)
	}
	sort.Slice(us, func(i, j int) bool { return us[i].cpu < us[j].cpu })
	m := us[len(us)/2]
	for _, u := range us { // peak memory: the worst run
		m.rss = max(m.rss, u.rss)
	}
	return m, nil
}

func main() {
	bin := flag.String("muster", "bin/muster", "muster binary")
	runs := flag.Int("runs", 5, "runs of each agent")
	flag.Parse()
	dir, err := os.MkdirTemp("", "agentbench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	m, err := median(func() (usage, error) {
		return measure(*bin, "agent", "run", "--local", dir, "--work-dir", dir+"/m")
	}, *runs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "agentbench:", err)
		os.Exit(1)
	}
	fmt.Printf("%-36s %10s %10s %10s\n", "one inventory run (--local)", "CPU", "peak RSS", "wall")
	fmt.Printf("%-36s %10v %7.1f MB %10v   target ≤1 s CPU %s, ≤40 MB %s\n", "muster agent", m.cpu.Round(time.Millisecond),
		float64(m.rss)/1024, m.wall.Round(time.Millisecond), verdict(m.cpu <= time.Second), verdict(m.rss <= 40*1024))
	if err := windowsUnderWine(dir, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "agentbench: windows agent under Wine:", err)
		os.Exit(1)
	}
	perl, err := exec.LookPath("ocsinventory-agent")
	if err != nil {
		fmt.Println("ocsinventory-agent not installed: no comparison (make test-deps)")
		return
	}
	p, err := median(func() (usage, error) {
		return measure(perl, "--local="+dir, "--basevardir="+dir+"/p")
	}, *runs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "agentbench:", err)
		os.Exit(1)
	}
	ratio := float64(p.cpu) / float64(m.cpu)
	fmt.Printf("%-36s %10v %7.1f MB %10v\n", "ocsinventory-agent 2.10 (Perl)", p.cpu.Round(time.Millisecond), float64(p.rss)/1024, p.wall.Round(time.Millisecond))
	fmt.Printf("muster uses %.1f× less CPU (target ≥5× %s) and %.1f× less memory\n", ratio, verdict(ratio >= 5), float64(p.rss)/float64(m.rss))
}

// windowsUnderWine measures muster.exe's inventory run (--xml) in a fresh
// Wine 8 prefix: the CPU and peak RSS of the muster.exe process and its
// launcher (Wine's wineserver, shared and kept running, is not counted),
// after one unmeasured run that starts the prefix.
func windowsUnderWine(dir string, runs int) error {
	if _, err := exec.LookPath("wine"); err != nil {
		fmt.Println("wine not installed: no Windows agent figures (make test-deps)")
		return nil
	}
	exe := dir + "/prefix/drive_c/muster.exe"
	if out, err := exec.Command("scripts/wine/prefix.sh", dir+"/prefix").CombinedOutput(); err != nil {
		return fmt.Errorf("prefix: %v\n%s", err, out)
	}
	env := append(os.Environ(), "WINEPREFIX="+dir+"/prefix", "WINEDEBUG=-all")
	defer func() {
		k := exec.Command("wineserver", "-k")
		k.Env = env
		k.Run()
	}()
	b := exec.Command("go", "build", "-o", exe, "./cmd/muster")
	b.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64")
	if out, err := b.CombinedOutput(); err != nil {
		return fmt.Errorf("build muster.exe: %v\n%s", err, out)
	}
	run := func() (usage, error) {
		cmd := exec.Command("wine", `C:\muster.exe`, "agent", "run", "--xml", `C:\out`, "--work-dir", `C:\agent`)
		cmd.Env = env
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return usage{}, fmt.Errorf("%v\n%s", err, out)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		return usage{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), rss: ru.Maxrss, wall: time.Since(start)}, nil
	}
	if _, err := run(); err != nil { // starts wineserver and the prefix's services
		return err
	}
	w, err := median(run, runs)
	if err != nil {
		return err
	}
	fmt.Printf("%-36s %10v %7.1f MB %10v   (Wine 8; wineserver not counted)\n", "muster.exe agent under Wine (--xml)", w.cpu.Round(time.Millisecond),
		float64(w.rss)/1024, w.wall.Round(time.Millisecond))
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}
