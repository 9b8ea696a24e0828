//go:build linux

// Command discoverbench measures muster discover beside arp-scan and nmap
// on the same test bed, in the same run: wall time (median of several runs
// of the whole command), hosts found, and muster's time as a ratio of
// arp-scan's; and, at OCS's 100 ms latency, how exactly each paces its
// requests, from a capture of every request on the wire. Needs root.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"muster/discover"
	"muster/internal/testbed"
)

func main() {
	bin := flag.String("muster", "bin/muster", "muster binary")
	runs := flag.Int("runs", 5, "runs of each command (the median is shown)")
	flag.Parse()
	if err := run(*bin, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "discoverbench:", err)
		os.Exit(1)
	}
}

type tool struct {
	name string
	args []string // in the operator namespace; TARGET appended
	// count parses the number of hosts found from the output.
	count func(out string) int
}

var nmapUp = regexp.MustCompile(`\((\d+) hosts? up\)`)

func tools(bin string, fastest bool) []tool {
	countLines := func(out string) int {
		n := 0
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) >= 2 && strings.Count(f[0], ".") == 3 {
				n++
			}
		}
		return n
	}
	nmapCount := func(out string) int {
		m := nmapUp.FindStringSubmatch(out)
		if m == nil {
			return -1
		}
		n, _ := strconv.Atoi(m[1])
		return n - 1 // nmap counts the scanner itself
	}
	if fastest {
		return []tool{
			// One attempt per address each (arp-scan --retry=1 is the total).
			{"muster", []string{bin, "discover", "--fast", "--retries", "0", "--timeout", "20ms", "--names=false", "-o", "csv"}, func(out string) int {
				return strings.Count(out, "\n") - 1
			}},
			{"arp-scan", []string{"arp-scan", "-I", "eth0", "--plain", "-q", "--bandwidth=1000M", "--retry=1", "--timeout=100"}, countLines},
			{"nmap", []string{"nmap", "-sn", "-PR", "-n", "-T5", "--min-rate", "10000"}, nmapCount},
		}
	}
	// Paced at OCS's default latency; both ask silent addresses once more.
	return []tool{
		{"muster", []string{bin, "discover", "--latency", "100ms", "--retries", "1", "--timeout", "500ms", "--names=false", "-o", "csv"}, func(out string) int {
			return strings.Count(out, "\n") - 1
		}},
		{"arp-scan", []string{"arp-scan", "-I", "eth0", "--plain", "-q", "--interval=100", "--retry=2"}, countLines},
	}
}

type scenario struct {
	name    string
	lan     testbed.LAN
	fastest bool
	skip    map[string]string // tool → why it is not run
	target  float64           // muster/arp-scan wall must be ≤ this
}

type measure struct {
	wall  time.Duration
	found int
	// pacing, from the capture (paced scenario only)
	requests int
	meanGap  time.Duration
}

func run(bin string, runs int) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (it builds a test bed)")
	}
	scenarios := []scenario{
		{name: "/24, 50 hosts, fastest", lan: testbed.LAN{Prefix: netip.MustParsePrefix("10.77.0.0/24"), Hosts: 50, Spread: true}, fastest: true, target: 0.5},
		{name: "/20, 200 hosts, fastest", lan: testbed.LAN{Prefix: netip.MustParsePrefix("10.77.0.0/20"), Hosts: 200, Spread: true}, fastest: true, target: 0.5},
		{name: "/20, 200 hosts, fastest, cheap bed", lan: testbed.LAN{Prefix: netip.MustParsePrefix("10.77.0.0/20"), Hosts: 200, Spread: true, Mode: testbed.ModeRewrite}, fastest: true, target: 0.5},
		{name: "/16, 1000 hosts, fastest, cheap bed", lan: testbed.LAN{Prefix: netip.MustParsePrefix("10.77.0.0/16"), Hosts: 1000, Spread: true, Mode: testbed.ModeRewrite}, fastest: true, target: 1.0,
			skip: map[string]string{"nmap": "takes 80-150 s (ipdiscover.md)"}},
		{name: "/26, 16 hosts, 100 ms latency", lan: testbed.LAN{Prefix: netip.MustParsePrefix("10.77.0.0/26"), Hosts: 16, Spread: true}, target: 1.0},
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\ttool\twall (median)\tfound\trequests\tpacing error\tmuster/arp-scan\ttarget\t")
	for _, sc := range scenarios {
		fmt.Fprintf(os.Stderr, "discoverbench: %s...\n", sc.name)
		b, err := testbed.Up(context.Background(), testbed.Options{LANs: []testbed.LAN{sc.lan}})
		if err != nil {
			return err
		}
		results := map[string]measure{}
		for _, t := range tools(bin, sc.fastest) {
			if why, ok := sc.skip[t.name]; ok {
				fmt.Fprintf(tw, "%s\t%s\tskipped: %s\t\t\t\t\t\t\n", sc.name, t.name, why)
				continue
			}
			m, err := measureTool(b, t, sc, runs)
			if err != nil {
				b.Down()
				return fmt.Errorf("%s, %s: %w", sc.name, t.name, err)
			}
			results[t.name] = m
		}
		b.Down()
		for _, t := range tools(bin, sc.fastest) {
			m, ok := results[t.name]
			if !ok {
				continue
			}
			found := fmt.Sprintf("%d/%d", m.found, sc.lan.Hosts)
			if m.found != sc.lan.Hosts {
				found += " MISSED"
			}
			pacing, reqs := "", ""
			if !sc.fastest {
				reqs = strconv.Itoa(m.requests)
				pacing = fmt.Sprintf("%+.2f%% (gap %v)", 100*(float64(m.meanGap)-float64(100*time.Millisecond))/float64(100*time.Millisecond), m.meanGap.Round(10*time.Microsecond))
			}
			ratio, target := "", ""
			if t.name == "muster" {
				if a, ok := results["arp-scan"]; ok {
					r := float64(m.wall) / float64(a.wall)
					verdict := "met"
					if r > sc.target {
						verdict = "MISSED"
					}
					ratio = fmt.Sprintf("%.2f×", r)
					target = fmt.Sprintf("≤%.1f× %s", sc.target, verdict)
					if !sc.fastest {
						target = "pacing ±2%"
						if d := float64(m.meanGap)/float64(100*time.Millisecond) - 1; d > 0.02 || d < -0.02 {
							target += " MISSED"
						} else {
							target += " met"
						}
					}
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\t%s\t%s\t%s\t\n", sc.name, t.name, m.wall.Round(time.Millisecond), found, reqs, pacing, ratio, target)
		}
	}
	return tw.Flush()
}

// measureTool runs t runs times (once for the paced scenario, which takes
// seconds) and returns the median wall time.
func measureTool(b *testbed.Bed, t tool, sc scenario, runs int) (measure, error) {
	if !sc.fastest {
		runs = 1
	}
	var walls []time.Duration
	var last measure
	for i := 0; i < runs; i++ {
		var cap *capture
		if !sc.fastest {
			var err error
			if cap, err = startCapture(b); err != nil {
				return measure{}, err
			}
		}
		cmd := b.Command(append(append([]string{}, t.args...), sc.lan.Prefix.String())...)
		start := time.Now()
		out, err := cmd.Output()
		wall := time.Since(start)
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return measure{}, fmt.Errorf("%v: %s", err, ee.Stderr)
			}
			return measure{}, err
		}
		walls = append(walls, wall)
		last = measure{found: t.count(string(out))}
		if cap != nil {
			last.requests, last.meanGap = cap.stop()
		}
	}
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	last.wall = walls[len(walls)/2]
	return last, nil
}

// capture records when each ARP request leaves the operator's eth0.
type capture struct {
	fd    int
	mu    sync.Mutex
	times []time.Time
	done  chan struct{}
	wg    sync.WaitGroup
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func startCapture(b *testbed.Bed) (*capture, error) {
	c := &capture{done: make(chan struct{})}
	err := b.InOperator(func() error {
		// Outgoing frames reach only ETH_P_ALL taps.
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		tv := unix.NsecToTimeval((20 * time.Millisecond).Nanoseconds())
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		c.fd = fd
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		buf := make([]byte, 1600)
		for {
			select {
			case <-c.done:
				return
			default:
			}
			n, from, err := unix.Recvfrom(c.fd, buf, 0)
			if err != nil {
				continue
			}
			ll, ok := from.(*unix.SockaddrLinklayer)
			if !ok || ll.Pkttype != unix.PACKET_OUTGOING {
				continue
			}
			if p, err := discover.DecodeARP(buf[:n]); err == nil && p.Op == 1 {
				c.mu.Lock()
				c.times = append(c.times, time.Now())
				c.mu.Unlock()
			}
		}
	}()
	return c, nil
}

// stop ends the capture and returns the requests seen and their mean gap.
func (c *capture) stop() (int, time.Duration) {
	close(c.done)
	c.wg.Wait()
	unix.Close(c.fd)
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.times)
	if n < 2 {
		return n, 0
	}
	return n, c.times[n-1].Sub(c.times[0]) / time.Duration(n-1)
}
