package election

import (
	"testing"
	"time"
)

const unixUA = "OCS-NG_unified_unix_agent_v2.10.0"

var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func net24(s string) []Network {
	return []Network{{Description: "eth0", Status: "Up", Mask: "255.255.255.0", Subnet: s}}
}

func mature(id string, q float64) Agent {
	return Agent{DeviceID: id, UserAgent: unixUA, Quality: q, Fidelity: 5, LastDate: now.Add(-time.Hour), Networks: net24("10.0.1.0"), Mode: None}
}

func elected(id string, q float64, last time.Time, mode Mode) Agent {
	a := mature(id, q)
	a.LastDate, a.Mode, a.Subnet = last, mode, "10.0.1.0"
	return a
}

func TestDecide(t *testing.T) {
	recent := now.Add(-24 * time.Hour)
	stale := now.Add(-15 * 24 * time.Hour)
	cases := []struct {
		name     string
		agent    Agent
		elected  []Agent
		reported bool
		opts     Options
		want     Action
		victim   string
	}{
		{name: "free place: elected", agent: mature("a", 1), want: Elect},
		{name: "second free place", agent: mature("a", 1), elected: []Agent{elected("x", 1, recent, Auto)}, want: Elect},
		{name: "full, equal quality: kept out", agent: mature("a", 1), elected: []Agent{elected("x", 1, recent, Auto), elected("y", 1, recent, Auto)}, want: Keep},
		{name: "full, better by exactly the threshold: kept out (strictly more needed)", agent: mature("a", 1),
			elected: []Agent{elected("x", 2, recent, Auto), elected("y", 1.5, recent, Auto)}, want: Keep},
		{name: "full, better by more than the threshold: replaces the worst", agent: mature("a", 0.5),
			elected: []Agent{elected("x", 3, recent, Auto), elected("y", 1.2, recent, Auto)}, want: Replace, victim: "x"},
		{name: "ties on the worst quality: the first found is the victim", agent: mature("a", 0.5),
			elected: []Agent{elected("x", 3, recent, Auto), elected("y", 3, recent, Auto)}, want: Replace, victim: "x"},
		{name: "a stale agent is replaced whatever the qualities", agent: mature("a", 5),
			elected: []Agent{elected("x", 0.1, recent, Auto), elected("y", 0.1, stale, Auto)}, want: Replace, victim: "y"},
		{name: "forced agents are never replaced", agent: mature("a", 0.1),
			elected: []Agent{elected("x", 9, stale, Forced), elected("y", 9, stale, Forced)}, want: Keep},
		{name: "not mature: FIDELITY 2", agent: func() Agent { a := mature("a", 1); a.Fidelity = 2; return a }(), want: Keep},
		{name: "not mature: QUALITY 0", agent: mature("a", 0), want: Keep},
		{name: "NO_POSTPONE elects at once", agent: func() Agent { a := mature("a", 0); a.Fidelity = 1; return a }(),
			opts: Options{Max: 2, BetterThreshold: 1, MaxAlive: 14 * 24 * time.Hour, NoPostpone: true}, want: Elect},
		{name: "user agent not electable", agent: func() Agent { a := mature("a", 1); a.UserAgent = "curl/8"; return a }(), want: Keep},
		{name: "admin excluded", agent: func() Agent { a := mature("a", 1); a.Mode = Never; return a }(), want: Keep},
		{name: "PPP, down, wide masks and IPv6 are not subnets to scan", agent: func() Agent {
			a := mature("a", 1)
			a.Networks = []Network{{Description: "ppp0", Status: "Up", Mask: "255.255.255.0", Subnet: "10.9.0.0"},
				{Description: "eth1", Status: "Down", Mask: "255.255.255.0", Subnet: "10.9.1.0"},
				{Description: "eth2", Status: "Up", Mask: "255.0.0.0", Subnet: "10.0.0.0"},
				{Description: "eth3", Status: "Up", Mask: "ffff:ffff::", Subnet: "fd00::"}}
			return a
		}(), want: Keep},
		{name: "the first suitable network wins", agent: func() Agent {
			a := mature("a", 1)
			a.Networks = []Network{{Description: "ppp0", Status: "Up", Mask: "255.255.255.0", Subnet: "10.9.0.0"},
				{Description: "eth1", Status: "up", Mask: "255.255.0.0", Subnet: "10.8.0.0"}}
			return a
		}(), want: Elect},
		{name: "elected and reported: stays", agent: elected("a", 1, recent, Auto), reported: true, want: Keep},
		{name: "elected and reported nothing: unelected", agent: elected("a", 1, recent, Auto), want: Unelect},
		{name: "forced and reported nothing: stays", agent: elected("a", 1, recent, Forced), want: Keep},
		{name: "too many elected: unelected", agent: elected("a", 1, recent, Auto), reported: true,
			elected: []Agent{elected("a", 1, recent, Auto), elected("x", 1, recent, Auto), elected("y", 1, recent, Auto)}, want: Unelect},
		{name: "IPDISCOVER 0: off", agent: mature("a", 1), opts: Options{Max: 0, Latency: time.Millisecond}, want: Keep},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := c.opts
			if o == (Options{}) {
				o = Defaults
			}
			by := map[string][]Agent{}
			for _, e := range c.elected {
				by[e.Subnet] = append(by[e.Subnet], e)
			}
			d := Decide(c.agent, by, c.reported, o, now)
			if d.Action != c.want || d.Victim != c.victim {
				t.Fatalf("decision %+v, want action %d victim %q", d, c.want, c.victim)
			}
			if d.Action == Elect && c.name == "the first suitable network wins" && d.Subnet != "10.8.0.0" {
				t.Fatalf("subnet %s", d.Subnet)
			}
		})
	}
}
