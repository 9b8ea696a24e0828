package server

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"muster/server/store"
)

// Duplicates: two records of one machine (two agents on it, a reinstall
// without OLD_DEVICEID) found by OCS's criteria and merged, the newest
// record winning.

// Duplicate criteria, as the bits of OCS's AUTO_DUPLICATE_LVL: a pair of
// records is a duplicate when every chosen criterion matches.
const (
	DupName   = 1 // the same host name
	DupSerial = 2 // the same system serial (not a placeholder)
	DupMAC    = 4 // a MAC in common (not a placeholder)
)

// DefaultDupCriteria is host name and MAC: serials are often missing or
// placeholders in virtual machines.
const DefaultDupCriteria = DupName | DupMAC

// ParseDupCriteria reads "name,serial,mac" (any of them).
func ParseDupCriteria(s string) (int, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultDupCriteria, nil
	}
	c := 0
	for _, w := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(w)) {
		case "name", "hostname":
			c |= DupName
		case "serial":
			c |= DupSerial
		case "mac":
			c |= DupMAC
		default:
			return 0, invalid("duplicate criterion %q: want name, serial or mac", w)
		}
	}
	return c, nil
}

// junkSerials are system serials many machines report alike (OCS's
// blacklist_serials holds the same kind).
var junkSerials = map[string]bool{
	"": true, "0": true, "00000000": true, "none": true, "n/a": true, "na": true, "not specified": true,
	"not available": true, "to be filled by o.e.m.": true, "system serial number": true, "default string": true,
	"0123456789": true, "123456789": true, "chassis serial number": true, "invalid": true,
}

func goodSerial(s string) string {
	s = strings.TrimSpace(s)
	if junkSerials[strings.ToLower(s)] || strings.Trim(s, "0 ") == "" {
		return ""
	}
	return s
}

// DuplicateGroup is the records of one machine: Keep is the newest (the
// one merges keep), Others would be folded into it.
type DuplicateGroup struct {
	Keep   store.Device   `json:"keep"`
	Others []store.Device `json:"others"`
	// Why says which criteria matched.
	Why string `json:"why"`
}

// Duplicates finds the groups of records that match on every criterion of
// by ("name,serial,mac"; "" for name and MAC).
func (l LocalAdmin) Duplicates(ctx context.Context, by string) ([]DuplicateGroup, error) {
	criteria, err := ParseDupCriteria(by)
	if err != nil {
		return nil, err
	}
	return l.duplicates(ctx, criteria)
}

func (l LocalAdmin) duplicates(ctx context.Context, criteria int) ([]DuplicateGroup, error) {
	if criteria&(DupName|DupSerial|DupMAC) == 0 {
		return nil, invalid("no duplicate criterion chosen")
	}
	devs, err := l.Store.Devices(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := l.Store.IdentityKeys(ctx, nil)
	if err != nil {
		return nil, err
	}
	return findDuplicates(devs, keys, criteria), nil
}

// findDuplicates groups devices pairwise-matching on every criterion
// (union of pairs), each group kept by its newest inventory.
func findDuplicates(devs []store.Device, keys map[int64]store.IdentityKeys, criteria int) []DuplicateGroup {
	macs := func(id int64) map[string]bool {
		m := map[string]bool{}
		for _, x := range keys[id].MACs {
			if n := normalMAC(x); n != "" {
				m[n] = true
			}
		}
		return m
	}
	match := func(a, b store.Device) bool {
		if criteria&DupName != 0 && (a.Name == "" || !strings.EqualFold(a.Name, b.Name)) {
			return false
		}
		if criteria&DupSerial != 0 {
			sa := goodSerial(keys[a.ID].Serial)
			if sa == "" || !strings.EqualFold(sa, goodSerial(keys[b.ID].Serial)) {
				return false
			}
		}
		if criteria&DupMAC != 0 {
			mb := macs(b.ID)
			shared := false
			for m := range macs(a.ID) {
				if mb[m] {
					shared = true
					break
				}
			}
			if !shared {
				return false
			}
		}
		return true
	}
	// Candidates share a bucket: the host name, else the serial, else a
	// MAC; only pairs within a bucket are compared.
	buckets := map[string][]int{}
	for i, d := range devs {
		switch {
		case criteria&DupName != 0:
			buckets["n:"+strings.ToLower(d.Name)] = append(buckets["n:"+strings.ToLower(d.Name)], i)
		case criteria&DupSerial != 0:
			if s := goodSerial(keys[d.ID].Serial); s != "" {
				buckets["s:"+strings.ToLower(s)] = append(buckets["s:"+strings.ToLower(s)], i)
			}
		default:
			for m := range macs(d.ID) {
				buckets["m:"+m] = append(buckets["m:"+m], i)
			}
		}
	}
	parent := make([]int, len(devs))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for _, b := range buckets {
		for x := 0; x < len(b); x++ {
			for y := x + 1; y < len(b); y++ {
				if find(b[x]) != find(b[y]) && match(devs[b[x]], devs[b[y]]) {
					parent[find(b[x])] = find(b[y])
				}
			}
		}
	}
	members := map[int][]store.Device{}
	for i, d := range devs {
		members[find(i)] = append(members[find(i)], d)
	}
	var why []string
	for _, c := range []struct {
		bit  int
		name string
	}{{DupName, "host name"}, {DupSerial, "serial"}, {DupMAC, "MAC"}} {
		if criteria&c.bit != 0 {
			why = append(why, c.name)
		}
	}
	var out []DuplicateGroup
	for _, m := range members {
		if len(m) < 2 {
			continue
		}
		slices.SortFunc(m, func(a, b store.Device) int {
			if c := b.LastInventory.Compare(a.LastInventory); c != 0 {
				return c
			}
			return strings.Compare(b.DeviceID, a.DeviceID)
		})
		out = append(out, DuplicateGroup{Keep: m[0], Others: m[1:], Why: "same " + strings.Join(why, ", ")})
	}
	slices.SortFunc(out, func(a, b DuplicateGroup) int { return strings.Compare(a.Keep.Name, b.Keep.Name) })
	return out
}

// MergeDuplicates merges every group found by the criteria of by into its
// newest record, and returns the groups merged. Each merge is audited
// (who: the caller's name, else "local admin").
func (l LocalAdmin) MergeDuplicates(ctx context.Context, by string) ([]DuplicateGroup, error) {
	who := cmp.Or(caller(ctx).Name, "local admin")
	groups, err := l.Duplicates(ctx, by)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		for _, o := range g.Others {
			if err := l.Store.MergeDevices(ctx, g.Keep.DeviceID, o.DeviceID); err != nil {
				return groups, fmt.Errorf("merge %s into %s: %w", o.DeviceID, g.Keep.DeviceID, err)
			}
			l.Store.Audit(ctx, store.AuditEntry{At: l.now(), Who: who, Action: "merge " + o.DeviceID + " into " + g.Keep.DeviceID, Detail: "duplicate: " + g.Why})
		}
	}
	return groups, nil
}

// autoDuplicates merges the duplicates of a device just inventoried into
// it when the AUTO_DUPLICATE_LVL option asks for it (bits 1 host name,
// 2 serial, 4 MAC; 0, the default, is off).
func (s *Server) autoDuplicates(ctx context.Context, deviceID string) {
	v, err := s.store.Option(ctx, "AUTO_DUPLICATE_LVL")
	if err != nil || v == "" || v == "0" {
		return
	}
	lvl, _ := strconv.Atoi(v)
	lvl &= DupName | DupSerial | DupMAC
	if lvl == 0 {
		return
	}
	devs, err := s.store.Devices(ctx)
	if err != nil {
		s.log.Error("automatic duplicates", "err", err)
		return
	}
	// With the host name among the criteria, only records of this
	// device's name are candidates: their keys alone are read.
	var self store.Device
	for _, d := range devs {
		if d.DeviceID == deviceID {
			self = d
		}
	}
	var ids []int64
	if lvl&DupName != 0 {
		cands := devs[:0:0]
		for _, d := range devs {
			if strings.EqualFold(d.Name, self.Name) {
				cands = append(cands, d)
				ids = append(ids, d.ID)
			}
		}
		devs = cands
	}
	keys, err := s.store.IdentityKeys(ctx, ids)
	if err != nil {
		s.log.Error("automatic duplicates", "err", err)
		return
	}
	groups := findDuplicates(devs, keys, lvl)
	for _, g := range groups {
		in := g.Keep.DeviceID == deviceID
		for _, o := range g.Others {
			in = in || o.DeviceID == deviceID
		}
		if !in {
			continue
		}
		for _, o := range g.Others {
			if err := s.store.MergeDevices(ctx, g.Keep.DeviceID, o.DeviceID); err != nil {
				s.log.Error("automatic duplicates: merge", "keep", g.Keep.DeviceID, "old", o.DeviceID, "err", err)
				continue
			}
			s.log.Info("duplicate merged", "keep", g.Keep.DeviceID, "old", o.DeviceID, "why", g.Why)
			s.audit(ctx, "server (AUTO_DUPLICATE_LVL)", "merge "+o.DeviceID+" into "+g.Keep.DeviceID, "duplicate: "+g.Why)
		}
	}
}
