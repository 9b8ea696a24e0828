package server

import (
	"context"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"muster/discover"
	"muster/inventories"
	"muster/inventories/ocsxml"
	"muster/server/election"
	"muster/server/store"
)

// Server options, as OCS names them, with their checks.
var serverOptions = map[string]func(string) error{
	"DOWNLOAD":                    intIn(0, 1),
	"DOWNLOAD_FRAG_LATENCY":       intIn(0, 3600), // s
	"DOWNLOAD_CYCLE_LATENCY":      intIn(0, 3600), // s
	"DOWNLOAD_PERIOD_LATENCY":     intIn(0, 3600), // s
	"DOWNLOAD_PERIOD_LENGTH":      intIn(1, 100),
	"DOWNLOAD_TIMEOUT":            intIn(1, 365),  // days
	"DOWNLOAD_EXECUTION_TIMEOUT":  intIn(1, 1440), // min
	"IPDISCOVER":                  intIn(0, 100),
	"IPDISCOVER_LATENCY":          intIn(10, 60000), // ms, OCS's minimum is 10
	"IPDISCOVER_MAX_ALIVE":        intIn(1, 3650),   // days
	"IPDISCOVER_BETTER_THRESHOLD": floatIn(0, 365),  // days
	"IPDISCOVER_NO_POSTPONE":      intIn(0, 1),
	// Bits: 1 host name, 2 serial, 4 MAC; a new inventory's duplicates
	// (every chosen criterion matching) are merged into it. 0: off.
	"AUTO_DUPLICATE_LVL": intIn(0, 7),
}

func intIn(lo, hi int) func(string) error {
	return func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want a whole number from %d to %d", lo, hi)
		}
		return nil
	}
}

func floatIn(lo, hi float64) func(string) error {
	return func(s string) error {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < lo || f > hi {
			return fmt.Errorf("want a number from %g to %g", lo, hi)
		}
		return nil
	}
}

// OptionNames lists the options `muster server config` knows.
func OptionNames() []string {
	return []string{"IPDISCOVER", "IPDISCOVER_LATENCY", "IPDISCOVER_MAX_ALIVE", "IPDISCOVER_BETTER_THRESHOLD", "IPDISCOVER_NO_POSTPONE",
		"DOWNLOAD", "DOWNLOAD_FRAG_LATENCY", "DOWNLOAD_CYCLE_LATENCY", "DOWNLOAD_PERIOD_LATENCY", "DOWNLOAD_PERIOD_LENGTH",
		"DOWNLOAD_TIMEOUT", "DOWNLOAD_EXECUTION_TIMEOUT", "AUTO_DUPLICATE_LVL"}
}

// SetOption checks and sets a server option; "" restores the default.
func SetOption(ctx context.Context, st store.Store, name, value string) error {
	name = strings.ToUpper(name)
	check, ok := serverOptions[name]
	if !ok {
		return invalid("unknown option %q (known: %s)", name, strings.Join(OptionNames(), ", "))
	}
	if value != "" {
		if err := check(value); err != nil {
			return invalid("%s=%q: %v", name, value, err)
		}
	}
	return st.SetOption(ctx, name, value)
}

// ElectionOptions reads the IPDISCOVER options, defaults as OCS ships them.
func ElectionOptions(ctx context.Context, st store.Store) (election.Options, error) {
	o := election.Defaults
	all, err := st.Options(ctx)
	if err != nil {
		return o, err
	}
	if v, ok := all["IPDISCOVER"]; ok {
		o.Max, _ = strconv.Atoi(v)
	}
	if v, ok := all["IPDISCOVER_LATENCY"]; ok {
		ms, _ := strconv.Atoi(v)
		o.Latency = time.Duration(ms) * time.Millisecond
	}
	if v, ok := all["IPDISCOVER_MAX_ALIVE"]; ok {
		d, _ := strconv.Atoi(v)
		o.MaxAlive = time.Duration(d) * 24 * time.Hour
	}
	if v, ok := all["IPDISCOVER_BETTER_THRESHOLD"]; ok {
		o.BetterThreshold, _ = strconv.ParseFloat(v, 64)
	}
	o.NoPostpone = all["IPDISCOVER_NO_POSTPONE"] == "1"
	return o, nil
}

// ipdiscoverOption returns the PROLOG option for an elected device, when
// its subnet is due a scan, and the PROLOG_FREQ it should call back with.
func (s *Server) ipdiscoverOption(ctx context.Context, deviceID string, freq int, now time.Time) (*ocsxml.Option, int, error) {
	e, err := s.store.ElectionOf(ctx, deviceID)
	if err != nil || (e.Mode != int(election.Auto) && e.Mode != int(election.Forced)) {
		return nil, freq, nil
	}
	o, err := ElectionOptions(ctx, s.store)
	if err != nil || o.Max == 0 {
		return nil, freq, err
	}
	every, last, err := s.store.Schedule(ctx, e.Subnet)
	if err != nil {
		return nil, freq, err
	}
	if every > 0 {
		// Call back often enough to catch the next rescan.
		freq = min(freq, max(1, int(math.Ceil(every.Hours()))))
		if now.Sub(last) < every {
			return nil, freq, nil // not due
		}
	}
	// Always with IPDISC_LAT: the Unix agent 2.10 dies on a bare PARAM.
	return &ocsxml.Option{Name: "IPDISCOVER", Params: []ocsxml.Param{{
		Attrs: []ocsxml.Attr{{Name: "IPDISC_LAT", Value: strconv.Itoa(int(o.Latency.Milliseconds()))}},
		Text:  e.Subnet,
	}}}, freq, nil
}

// afterInventory stores an elected agent's scan and runs the election
// for the device, as OCS does after each inventory.
func (s *Server) afterInventory(ctx context.Context, deviceID, userAgent string, inv *inventories.Inventory, now time.Time) {
	o, err := ElectionOptions(ctx, s.store)
	if err != nil || o.Max == 0 {
		return
	}
	e, err := s.store.ElectionOf(ctx, deviceID)
	if err != nil {
		s.log.Error("ipdiscover: election of device", "deviceid", deviceID, "err", err)
		return
	}
	reported := len(inv.IPDiscover) > 0
	if reported && (e.Mode == int(election.Auto) || e.Mode == int(election.Forced)) {
		mask := ""
		for _, n := range inv.Networks {
			if n.IPSubnet == e.Subnet {
				mask = n.IPMask
			}
		}
		vendors := discover.BuiltinVendors()
		n, err := s.store.RecordScan(ctx, deviceID, e.Subnet, mask, inv.IPDiscover, func(mac string) string {
			hw, err := net.ParseMAC(mac)
			if err != nil {
				return ""
			}
			return vendors.Lookup(hw)
		}, now)
		if err != nil {
			s.log.Error("ipdiscover: store scan", "deviceid", deviceID, "err", err)
		} else {
			s.log.Info("ipdiscover results stored", "deviceid", deviceID, "subnet", e.Subnet, "hosts", n)
		}
	}
	// "Reported nothing" counts only when a PROLOG asked for a scan.
	_, asked := s.scanAsked.LoadAndDelete(deviceID)
	var d election.Decision
	_, err = s.store.Elect(ctx, deviceID, now, func(self store.Election, elected map[string][]store.Election) store.ElectionChange {
		by := map[string][]election.Agent{}
		for sub, es := range elected {
			for _, x := range es {
				by[sub] = append(by[sub], election.Agent{DeviceID: x.DeviceID, Quality: x.Quality, Fidelity: x.Fidelity,
					LastDate: x.LastDate, Mode: election.Mode(x.Mode), Subnet: x.Subnet, UserAgent: x.UserAgent})
			}
		}
		a := election.Agent{DeviceID: deviceID, UserAgent: userAgent, Quality: self.Quality, Fidelity: self.Fidelity,
			LastDate: self.LastDate, Mode: election.Mode(self.Mode), Subnet: self.Subnet}
		for _, n := range inv.Networks {
			a.Networks = append(a.Networks, election.Network{Description: n.Description, Status: n.Status, Mask: n.IPMask, Subnet: n.IPSubnet})
		}
		d = election.Decide(a, by, reported || !asked, o, now)
		ch := store.ElectionChange{Subnet: d.Subnet, Victim: d.Victim}
		switch d.Action {
		case election.Elect:
			ch.Action = store.ElectionElect
		case election.Replace:
			ch.Action = store.ElectionReplace
		case election.Unelect:
			ch.Action = store.ElectionUnelect
		}
		return ch
	})
	if err != nil {
		s.metrics.errors.WithLabelValues("election").Inc()
		s.log.Error("ipdiscover: election", "deviceid", deviceID, "err", err)
		return
	}
	if d.Action == election.Keep {
		return
	}
	s.metrics.elections.WithLabelValues([]string{"keep", "elect", "replace", "unelect"}[d.Action]).Inc()
	s.log.Info("ipdiscover election", "deviceid", deviceID, "action", []string{"keep", "elect", "replace", "unelect"}[d.Action],
		"subnet", d.Subnet, "victim", d.Victim, "reason", d.Reason)
}
