//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"muster/internal/bench"
	"muster/internal/testbed"
)

// runPacing scans a /26 paced at an IPDISCOVER latency, muster and
// arp-scan --interval taking turns, and reports each one's inter-request
// gap error (p50, p99, max) from kernel timestamps of every request.
func runPacing(bin string, latency time.Duration, runs int) error {
	runs = min(runs, 3) // a paced /26 takes seconds per run
	lan := testbed.LAN{Prefix: prefix("10.77.0.0/26"), Hosts: 16, Spread: true}
	fmt.Fprintf(os.Stderr, "discoverbench: pacing at %v: building the bed...\n", latency)
	b, err := testbed.Up(context.Background(), testbed.Options{LANs: []testbed.LAN{lan}})
	if err != nil {
		return err
	}
	defer b.Down()
	ms := strconv.Itoa(int(latency / time.Millisecond))
	captured := map[string][][]time.Time{}
	captureSide := func(s bench.Side) bench.Side {
		return bench.Side{Name: s.Name, Run: func(ctx context.Context) (bench.Result, error) {
			c, err := startCapture(b)
			if err != nil {
				return bench.Result{}, err
			}
			res, err := s.Run(ctx)
			captured[s.Name] = append(captured[s.Name], c.stop())
			return res, err
		}}
	}
	target := lan.Prefix.String()
	c := bench.Comparison{
		Name: fmt.Sprintf("discover pacing at %v, /26, 16 hosts", latency),
		Same: fmt.Sprintf("targets %s; 1 try each; one request every %v (muster --latency, arp-scan --interval=%s); reply ceiling %v; no names; output: the sorted IP/MAC pairs", target, latency, ms, ceiling),
		Sides: []bench.Side{
			captureSide(cmdSide(b, "muster", parseMuster, bin, "discover", "--latency", latency.String(), "--retries", "0",
				"--timeout", ceiling.String(), "--names=false", "-o", "csv", target)),
			captureSide(cmdSide(b, "arp-scan", parseArpScan, "arp-scan", "-I", "eth0", "--plain", "-q", "--interval="+ms,
				"--retry=1", "--timeout="+strconv.Itoa(int(ceiling/time.Millisecond)), target)),
		},
		Runs: runs,
	}
	rep, err := bench.Run(context.Background(), c, os.Stderr)
	rep.Print(os.Stdout)
	if err != nil {
		return err
	}
	for _, s := range c.Sides {
		p := measurePacing(captured[s.Name], latency)
		reqs := 0
		for _, t := range captured[s.Name] {
			reqs += len(t)
		}
		fmt.Printf("   %-10s gap error vs %v: p50 %v  p99 %v  max %v  (mean gap %v, %d gaps, %d requests in %d runs)\n",
			s.Name, latency, p.p50.Round(time.Microsecond), p.p99.Round(time.Microsecond), p.max.Round(time.Microsecond),
			p.meanGap.Round(time.Microsecond), p.gaps, reqs, runs)
	}
	return nil
}
