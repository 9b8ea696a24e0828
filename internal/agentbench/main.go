//go:build linux

// Command agentbench measures one inventory run of muster's agent beside
// the OCS Unix agent (Perl) on this machine, through internal/bench: both
// write a local inventory of the same machine, taking turns; the sections
// both collect are checked equal (counts, and the software names) before
// the CPU ratio is printed, and every section and the XML size of each is
// shown side by side. "Time" is CPU seconds (user + system, children
// included); peak RSS is printed beside it.
package main

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"muster/internal/bench"
)

type usage struct {
	cpu  time.Duration
	rss  int64 // KiB
	wall time.Duration
}

func measure(env []string, args ...string) (usage, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return usage{}, fmt.Errorf("%v: %v\n%s", args, err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return usage{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), rss: ru.Maxrss, wall: time.Since(start)}, nil
}

// compared are the sections both agents collect on Linux; the others are
// shown, not compared.
var compared = []string{"CPUS", "DRIVES", "HARDWARE", "LOCAL_GROUPS", "LOCAL_USERS", "REPOSITORY", "SOFTWARES", "STORAGES"}

// profile reads an agent's local inventory (plain or zlib XML).
type profile struct {
	size     int
	sections map[string]int
	software []string // names without a ":arch" suffix, sorted
}

var (
	sectionRe = regexp.MustCompile(`(?m)^\s*<([A-Z_]+)>\s*$`)
	swNameRe  = regexp.MustCompile(`(?s)<SOFTWARES>.*?<NAME>(.*?)</NAME>`)
)

func readProfile(dir string) (profile, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.ocs"))
	if len(files) != 1 {
		return profile{}, fmt.Errorf("%s: want one .ocs file, found %d", dir, len(files))
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		return profile{}, err
	}
	if zr, err := zlib.NewReader(bytes.NewReader(b)); err == nil {
		if x, err := io.ReadAll(zr); err == nil {
			b = x
		}
	}
	content := string(b)
	if i := strings.Index(content, "<CONTENT>"); i >= 0 {
		content = content[i:]
	}
	p := profile{size: len(b), sections: map[string]int{}}
	for _, m := range sectionRe.FindAllStringSubmatch(content, -1) {
		if m[1] != "CONTENT" {
			p.sections[m[1]]++
		}
	}
	for _, m := range swNameRe.FindAllStringSubmatch(content, -1) {
		name, _, _ := strings.Cut(m[1], ":")
		p.software = append(p.software, name)
	}
	sort.Strings(p.software)
	p.software = slices.Compact(p.software)
	return p, nil
}

// canonical is what the two agents must agree on.
func (p profile) canonical() string {
	var lines []string
	for _, s := range compared {
		lines = append(lines, fmt.Sprintf("%s %d", s, p.sections[s]))
	}
	lines = append(lines, fmt.Sprintf("software names %x", sha256.Sum256([]byte(strings.Join(p.software, "\n")))))
	return strings.Join(lines, "\n")
}

func main() {
	bin := flag.String("muster", "bin/muster", "muster binary")
	runs := flag.Int("runs", 5, "runs of each agent")
	flag.Parse()
	if err := run(*bin, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "agentbench:", err)
		os.Exit(1)
	}
}

func run(bin string, runs int) error {
	dir, err := os.MkdirTemp("", "agentbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	perl, err := exec.LookPath("ocsinventory-agent")
	if err != nil {
		return fmt.Errorf("ocsinventory-agent not installed (make test-deps): no anchor, no comparison")
	}
	peak := map[string]int64{}
	profiles := map[string]profile{}
	side := func(name string, args func(out string) []string) bench.Side {
		n := 0
		return bench.Side{Name: name, Run: func(ctx context.Context) (bench.Result, error) {
			n++
			out := filepath.Join(dir, fmt.Sprintf("%s-%d", strings.Fields(name)[0], n))
			if err := os.MkdirAll(out, 0o755); err != nil {
				return bench.Result{}, err
			}
			u, err := measure(os.Environ(), args(out)...)
			if err != nil {
				return bench.Result{}, err
			}
			peak[name] = max(peak[name], u.rss)
			p, err := readProfile(out)
			if err != nil {
				return bench.Result{}, err
			}
			profiles[name] = p
			return bench.Result{Elapsed: u.cpu, Output: p.canonical()}, nil
		}}
	}
	c := bench.Comparison{
		Name: "agent, one local inventory of this machine (CPU time)",
		Same: "each agent writes one --local inventory of the same machine, one after the other; sections compared: " + strings.Join(compared, ", ") + " (counts) and the software names (without :arch); time is user+system CPU of the agent and its children",
		Sides: []bench.Side{
			side("muster agent", func(out string) []string {
				return []string{bin, "agent", "run", "--local", out, "--work-dir", out + "/work"}
			}),
			side("ocsinventory-agent 2.10", func(out string) []string {
				return []string{perl, "--local=" + out, "--basevardir=" + out + "/work"}
			}),
		},
		Runs: runs,
	}
	rep, err := bench.Run(context.Background(), c, os.Stderr)
	rep.Print(os.Stdout)
	// Every section, compared or not, and the size of each inventory.
	names := map[string]bool{}
	for _, p := range profiles {
		for s := range p.sections {
			names[s] = true
		}
	}
	all := make([]string, 0, len(names))
	for s := range names {
		all = append(all, s)
	}
	sort.Strings(all)
	m, o := profiles[c.Sides[0].Name], profiles[c.Sides[1].Name]
	fmt.Printf("   %-14s %8s %8s\n", "section", "muster", "perl")
	for _, s := range all {
		note := ""
		if !slices.Contains(compared, s) {
			note = "  (not compared)"
		}
		fmt.Printf("   %-14s %8d %8d%s\n", s, m.sections[s], o.sections[s], note)
	}
	fmt.Printf("   %-14s %8d %8d  bytes of XML\n", "size", m.size, o.size)
	fmt.Printf("   peak RSS: muster %.1f MB, perl %.1f MB (the worst run of each)\n", float64(peak[c.Sides[0].Name])/1024, float64(peak[c.Sides[1].Name])/1024)
	if err != nil {
		return err
	}
	return windowsUnderWine(dir, runs)
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
	fmt.Printf("\n== muster.exe agent under Wine 8 (--xml), no anchor: CPU %v, peak RSS %.1f MB, wall %v (median of %d; wineserver not counted)\n", w.cpu.Round(time.Millisecond), float64(w.rss)/1024, w.wall.Round(time.Millisecond), runs)
	return nil
}
