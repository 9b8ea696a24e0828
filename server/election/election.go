// Package election decides which agents run IPDISCOVER on each subnet, by
// the OCS communication server's rules (Ipdiscover.pm, upstream 2.12: the
// algorithm Debian's 2.8.1 never reaches): up to Max agents per subnet,
// chosen and replaced by QUALITY (mean days between contacts, lower is
// better) and FIDELITY (contacts), an agent silent for MaxAlive days
// replaced, an elected agent that reports nothing unelected. It is a pure
// function of its inputs, so every rule is tested by a table.
package election

import (
	"net/netip"
	"strings"
	"time"
)

// Options are the server's IPDISCOVER options, defaults as OCS ships them.
type Options struct {
	// Max is IPDISCOVER: agents per subnet (0 disables elections).
	Max int
	// Latency is IPDISCOVER_LATENCY, sent to elected agents.
	Latency time.Duration
	// MaxAlive is IPDISCOVER_MAX_ALIVE: an elected agent not inventoried
	// for this long is replaced by any candidate.
	MaxAlive time.Duration
	// BetterThreshold is IPDISCOVER_BETTER_THRESHOLD (days): a candidate
	// replaces the worst elected agent only if its QUALITY is lower by more.
	BetterThreshold float64
	// NoPostpone is IPDISCOVER_NO_POSTPONE: elect without waiting for
	// FIDELITY > 2.
	NoPostpone bool
}

// Defaults are OCS's shipped values.
var Defaults = Options{Max: 2, Latency: 100 * time.Millisecond, MaxAlive: 14 * 24 * time.Hour, BetterThreshold: 1}

// Mode is how an agent stands (OCS's devices.IVALUE for IPDISCOVER).
type Mode int

// Modes.
const (
	None   Mode = -1 // no row: may be elected automatically
	Never  Mode = 0  // an admin excluded it
	Auto   Mode = 1  // elected automatically
	Forced Mode = 2  // elected by an admin: never removed automatically
)

// Network is one of the agent's NETWORKS entries.
type Network struct {
	Description, Status, Mask, Subnet string
}

// Agent is an agent as the election sees it.
type Agent struct {
	DeviceID  string
	UserAgent string
	Quality   float64
	Fidelity  int
	LastDate  time.Time
	Networks  []Network
	Mode      Mode
	// Subnet is where it is elected (Mode Auto or Forced).
	Subnet string
}

// Decision is what to do after an agent's inventory.
type Decision struct {
	Action Action
	Subnet string
	// Victim is the agent replaced (Action Replace).
	Victim string
	Reason string
}

// Action is a change to the elections.
type Action int

// Actions.
const (
	Keep    Action = iota // nothing changes
	Elect                 // elect the agent on Subnet
	Replace               // move Victim's election on Subnet to the agent
	Unelect               // remove the agent's election
)

// electable are the agent names OCS auto-elects (by User-Agent).
var electable = []string{"OCS-NG_unified_unix_agent", "OCS-NG_windows_client", "OCS-NG_WINDOWS_AGENT"}

func electableUA(ua string) bool {
	name := ua
	if i := strings.LastIndex(ua, "_v"); i > 0 {
		name = ua[:i]
	}
	for _, e := range electable {
		if name == e {
			return true
		}
	}
	return false
}

// candidateSubnet reports whether an agent's network may be scanned from:
// not PPP, up, a mask of /16 or narrower, a dotted-quad subnet.
func candidateSubnet(n Network) bool {
	if strings.Contains(strings.ToLower(n.Description), "ppp") || !strings.Contains(strings.ToLower(n.Status), "up") {
		return false
	}
	if !strings.HasPrefix(n.Mask, "255.255.") && !strings.HasPrefix(strings.ToLower(n.Mask), "0xffff") {
		return false
	}
	a, err := netip.ParseAddr(n.Subnet)
	return err == nil && a.Is4()
}

// Decide applies OCS's rules to one agent's inventory. elected lists the
// agents currently elected, by subnet; reported says whether the inventory
// carried IPDISCOVER results; now is the server's clock.
func Decide(a Agent, elected map[string][]Agent, reported bool, o Options, now time.Time) Decision {
	if o.Max <= 0 {
		return Decision{Reason: "IPDISCOVER is 0: elections are off"}
	}
	switch a.Mode {
	case Never:
		return Decision{Reason: "excluded by an admin"}
	case Forced:
		return Decision{Reason: "elected by an admin"}
	case Auto:
		if !reported {
			return Decision{Action: Unelect, Subnet: a.Subnet, Reason: "elected but reported no IPDISCOVER results"}
		}
		if len(elected[a.Subnet]) > o.Max {
			return Decision{Action: Unelect, Subnet: a.Subnet, Reason: "more agents elected on the subnet than IPDISCOVER"}
		}
		return Decision{Reason: "stays elected"}
	}
	if !electableUA(a.UserAgent) {
		return Decision{Reason: "user agent not elected by OCS rules"}
	}
	if !(a.Fidelity > 2 && a.Quality != 0) && !o.NoPostpone {
		return Decision{Reason: "not mature yet (FIDELITY ≤ 2 or QUALITY 0)"}
	}
	// 1. A subnet of ours with a free place.
	for _, n := range a.Networks {
		if !candidateSubnet(n) {
			continue
		}
		if len(elected[n.Subnet]) < o.Max {
			return Decision{Action: Elect, Subnet: n.Subnet, Reason: "free place on the subnet"}
		}
	}
	// 2. Replace a stale or worse agent.
	for _, n := range a.Networks {
		if !candidateSubnet(n) {
			continue
		}
		var victim *Agent
		over := false
		for i := range elected[n.Subnet] {
			e := &elected[n.Subnet][i]
			if e.Mode == Forced || e.DeviceID == a.DeviceID {
				continue
			}
			if now.Sub(e.LastDate) > o.MaxAlive {
				victim, over = e, true
				break
			}
			if victim == nil || e.Quality > victim.Quality {
				victim = e
			}
		}
		if victim == nil {
			continue
		}
		if over {
			return Decision{Action: Replace, Subnet: n.Subnet, Victim: victim.DeviceID, Reason: "the elected agent has been silent longer than IPDISCOVER_MAX_ALIVE"}
		}
		if a.Quality < victim.Quality && victim.Quality-a.Quality > o.BetterThreshold {
			return Decision{Action: Replace, Subnet: n.Subnet, Victim: victim.DeviceID, Reason: "better QUALITY by more than IPDISCOVER_BETTER_THRESHOLD"}
		}
	}
	return Decision{Reason: "no free place and no agent to replace"}
}
