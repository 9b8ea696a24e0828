//go:build linux

// Command discoverbench measures muster discover beside arp-scan and nmap
// -PR on the namespace test bed, through internal/bench: the same targets,
// the same tries per silent address, the same reply ceiling, sides taking
// turns, and the same hosts found (IP and MAC) by every run of every side
// before a ratio is printed. It also scans under 10% loss and 5 ms added
// delay, and measures pacing at IPDISCOVER latencies from a capture of
// every request on the wire. Needs root.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"muster/internal/bench"
	"muster/internal/testbed"
)

func main() {
	bin := flag.String("muster", "bin/muster", "muster binary")
	runs := flag.Int("runs", 5, "runs of each side per comparison")
	only := flag.String("only", "", "run only the scenarios whose name contains this")
	flag.Parse()
	if err := run(*bin, *runs, *only); err != nil {
		fmt.Fprintln(os.Stderr, "discoverbench:", err)
		os.Exit(1)
	}
}

// ceiling is the reply wait both sides are given: arp-scan's --timeout per
// try, nmap's --max-rtt-timeout, and muster's --timeout, the ceiling of its
// adaptive wait (it waits less when replies say it may).
const ceiling = 100 * time.Millisecond

type scenario struct {
	name  string
	lan   testbed.LAN
	tries int
	// nmap: whether nmap runs too; nmapOnly leaves arp-scan out (a /16
	// takes nmap minutes, so it gets its own, shorter comparison).
	nmap, nmapOnly bool
	// faults, when set, are applied to the bed before the runs.
	faults func(b *testbed.Bed) error
	goal   float64
	runs   int
}

func prefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func run(bin string, runs int, only string) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (it builds a test bed)")
	}
	lossAndDelay := func(b *testbed.Bed) error {
		for i, h := range b.Hosts() {
			if err := b.SetLoss(h, 0.10); err != nil {
				return err
			}
			if i%5 == 0 { // one host in five behind a slow hop
				if err := b.SetDelay(h, 5*time.Millisecond); err != nil {
					return err
				}
			}
		}
		return nil
	}
	scenarios := []scenario{
		{name: "/24, 50 hosts, 1 try", lan: testbed.LAN{Prefix: prefix("10.77.0.0/24"), Hosts: 50, Spread: true}, tries: 1, nmap: true, goal: 0.25},
		{name: "/24, 50 hosts, 2 tries", lan: testbed.LAN{Prefix: prefix("10.77.0.0/24"), Hosts: 50, Spread: true}, tries: 2, nmap: true, goal: 0.25},
		{name: "/20, 200 hosts (rewrite), 2 tries", lan: testbed.LAN{Prefix: prefix("10.77.0.0/20"), Hosts: 200, Spread: true, Mode: testbed.ModeRewrite}, tries: 2, nmap: true, goal: 0.25},
		{name: "/16, 1000 hosts (rewrite), 2 tries", lan: testbed.LAN{Prefix: prefix("10.77.0.0/16"), Hosts: 1000, Spread: true, Mode: testbed.ModeRewrite}, tries: 2, goal: 0.25},
		{name: "/16, 1000 hosts (rewrite), 2 tries, with nmap", lan: testbed.LAN{Prefix: prefix("10.77.0.0/16"), Hosts: 1000, Spread: true, Mode: testbed.ModeRewrite}, tries: 2, nmap: true, nmapOnly: true, runs: 1},
		{name: "/24, 50 hosts, 10% loss, 5 ms delay on 10, 5 tries", lan: testbed.LAN{Prefix: prefix("10.77.0.0/24"), Hosts: 50, Spread: true}, tries: 5, faults: lossAndDelay, goal: 0.25},
	}
	failed := 0
	for _, sc := range scenarios {
		if !strings.Contains(sc.name, only) {
			continue
		}
		if err := runScenario(bin, sc, runs); err != nil {
			fmt.Println("  FAILED:", err)
			failed++
		}
		fmt.Println()
	}
	for _, lat := range []time.Duration{100 * time.Millisecond, 20 * time.Millisecond} {
		if only != "" && !strings.Contains("pacing", only) {
			continue
		}
		if err := runPacing(bin, lat, runs); err != nil {
			fmt.Println("  FAILED:", err)
			failed++
		}
		fmt.Println()
	}
	if failed > 0 {
		return fmt.Errorf("%d comparisons failed", failed)
	}
	return nil
}

func runScenario(bin string, sc scenario, runs int) error {
	if sc.runs > 0 {
		runs = sc.runs
	}
	fmt.Fprintf(os.Stderr, "discoverbench: %s: building the bed...\n", sc.name)
	b, err := testbed.Up(context.Background(), testbed.Options{LANs: []testbed.LAN{sc.lan}})
	if err != nil {
		return err
	}
	defer b.Down()
	if sc.faults != nil {
		if err := sc.faults(b); err != nil {
			return err
		}
	}
	target := sc.lan.Prefix.String()
	ms := strconv.Itoa(int(ceiling / time.Millisecond))
	sides := []bench.Side{
		cmdSide(b, "muster", parseMuster, bin, "discover", "--fast", "--retries", strconv.Itoa(sc.tries-1),
			"--timeout", ceiling.String(), "--names=false", "-o", "csv", target),
	}
	if !sc.nmapOnly {
		sides = append(sides, cmdSide(b, "arp-scan", parseArpScan, "arp-scan", "-I", "eth0", "--plain", "-q", "--bandwidth=1000M",
			"--retry="+strconv.Itoa(sc.tries), "--timeout="+ms, target))
	}
	if sc.nmap {
		sides = append(sides, cmdSide(b, "nmap -PR", parseNmap, "nmap", "-sn", "-PR", "-n", "-T5", "--min-rate", "10000",
			"--max-retries", strconv.Itoa(sc.tries-1), "--max-rtt-timeout", ms+"ms", target))
	}
	c := bench.Comparison{
		Name: "discover " + sc.name,
		Same: fmt.Sprintf("targets %s (%d live); %d tries per silent address (muster --retries %d, arp-scan --retry=%d, nmap --max-retries %d); reply ceiling %v (muster --timeout, the ceiling of its adaptive wait; arp-scan --timeout=%s per try; nmap --max-rtt-timeout); unthrottled; no names; output: the sorted IP/MAC pairs",
			target, sc.lan.Hosts, sc.tries, sc.tries-1, sc.tries, sc.tries-1, ceiling, ms),
		Sides: sides,
		Runs:  runs,
		Goal:  sc.goal,
	}
	rep, err := bench.Run(context.Background(), c, os.Stderr)
	rep.Print(os.Stdout)
	if err != nil {
		return err
	}
	if n := strings.Count(rep.Stats[0].Output, "\n") + 1; n != sc.lan.Hosts {
		return fmt.Errorf("every side found %d hosts of %d: recall %.1f%%", n, sc.lan.Hosts, 100*float64(n)/float64(sc.lan.Hosts))
	}
	fmt.Printf("   recall: %d/%d, 100%%, every run of every side\n", sc.lan.Hosts, sc.lan.Hosts)
	return nil // a missed goal is printed as such; only unequal work fails
}

// cmdSide runs a command in the bed's operator namespace; parse turns its
// output into the sorted "IP MAC" lines the sides are compared on.
func cmdSide(b *testbed.Bed, name string, parse func(string) []string, args ...string) bench.Side {
	return bench.Side{Name: name, Run: func(ctx context.Context) (bench.Result, error) {
		cmd := b.Command(args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return bench.Result{}, fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, errb.String())
			}
			return bench.Result{}, err
		}
		return bench.Result{Output: bench.Lines(parse(out.String()))}, nil
	}}
}

func pair(ip, mac string) string { return ip + " " + strings.ToLower(mac) }

func parseMuster(out string) []string {
	var hosts []string
	for i, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Split(l, ","); i > 0 && len(f) >= 2 {
			hosts = append(hosts, pair(f[0], f[1]))
		}
	}
	return hosts
}

func parseArpScan(out string) []string {
	var hosts []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && strings.Count(f[0], ".") == 3 {
			hosts = append(hosts, pair(f[0], f[1]))
		}
	}
	return hosts
}

// parseNmap reads "Nmap scan report for IP" then "MAC Address: MAC (...)";
// the scanner itself has no MAC line and is left out.
func parseNmap(out string) []string {
	var hosts []string
	ip := ""
	for _, l := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(l, "Nmap scan report for "); ok {
			ip = strings.TrimSpace(s)
		} else if s, ok := strings.CutPrefix(l, "MAC Address: "); ok && ip != "" {
			hosts = append(hosts, pair(ip, strings.Fields(s)[0]))
			ip = ""
		}
	}
	return hosts
}
