package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"muster/inventories"
)

// testIdentifyAndRequestedPush: an identified device is no longer
// unknown, and the subnet counts it apart; a push an admin requested is
// queued and due at once.
func testIdentifyAndRequestedPush(t *testing.T, open func(*testing.T) *DB) {
	s := open(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	hosts := []inventories.DiscoveredHost{{IP: "10.77.9.1", MAC: "02:00:00:00:09:01"}, {IP: "10.77.9.2", MAC: "02:00:00:00:09:02", Name: "printer"}}
	if _, err := s.RecordScan(ctx, "", "10.77.9.0", "255.255.255.0", hosts, func(string) string { return "" }, now); err != nil {
		t.Fatal(err)
	}
	if err := s.Identify(ctx, "02:00:00:00:09:02", "printer", "2nd floor", "ann", now); err != nil {
		t.Fatal(err)
	}
	if err := s.Identify(ctx, "02:00:00:00:99:99", "printer", "", "ann", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("identify a MAC never seen: %v", err)
	}
	m, err := s.Netmap(ctx, false, "10.77.9.0")
	if err != nil || len(m) != 2 || !m[0].Unknown || m[1].Unknown || m[1].Type != "printer" || m[1].Description != "2nd floor" || m[1].Inventoried {
		t.Fatalf("netmap %+v %v", m, err)
	}
	sn, _ := s.Subnets(ctx)
	if len(sn) != 1 || sn[0].Live != 2 || sn[0].Unknown != 1 || sn[0].Identified != 1 || sn[0].Inventoried != 0 {
		t.Errorf("subnets %+v", sn)
	}
	// A schedule says when the next scan is due.
	if err := s.SetSchedule(ctx, "10.77.9.0", 4*time.Hour); err != nil {
		t.Fatal(err)
	}
	if sn, _ := s.Subnets(ctx); len(sn) != 1 || sn[0].LastScan.IsZero() || !sn[0].NextScan.Equal(sn[0].LastScan.Add(4*time.Hour)) || sn[0].Agents == nil {
		t.Errorf("scheduled subnet %+v", sn)
	}
	if err := s.Identify(ctx, "02:00:00:00:09:02", "", "", "ann", now); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Netmap(ctx, true, ""); len(m) != 2 {
		t.Errorf("unknown after the identification was taken back: %+v", m)
	}
	if err := s.RecordPush(ctx, PushHost{Host: "winrm://10.77.9.1", Name: "10.77.9.1", Transport: "winrm", Outcome: PushRequested, At: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	q, err := s.PushQueue(ctx, true)
	if err != nil || len(q) != 1 || q[0].Host != "winrm://10.77.9.1" || !q[0].Due {
		t.Errorf("due queue %+v %v", q, err)
	}
}

// testSectionContains: a section's JSON is searched case-insensitively,
// with LIKE's own characters taken literally.
func testSectionContains(t *testing.T, open func(*testing.T) *DB) {
	s := open(t)
	ctx := context.Background()
	doc := sample(t)
	if len(doc.Inventory.Softwares) == 0 || len(doc.Inventory.Networks) == 0 {
		t.Fatal("the sample has no software or network")
	}
	if _, err := s.SaveInventory(ctx, doc.DeviceID, doc.Inventory, Meta{Received: time.Unix(1_800_000_000, 0)}); err != nil {
		t.Fatal(err)
	}
	sw := doc.Inventory.Softwares[len(doc.Inventory.Softwares)/2].Name
	// The software index answers with ids alone.
	pkg := doc.Inventory.Softwares[len(doc.Inventory.Softwares)/2]
	for _, c := range []struct {
		name, version string
		want          int
	}{{strings.ToUpper(pkg.Name), "", 1}, {pkg.Name, pkg.Version, 1}, {pkg.Name, "zz", 0}, {"%", "", 0}, {"no-such-package", "", 0}} {
		if ids, err := s.SoftwareDevices(ctx, c.name, c.version); err != nil || len(ids) != c.want {
			t.Errorf("software %q@%q: %v %v, want %d", c.name, c.version, ids, err, c.want)
		}
	}
	for _, c := range []struct {
		section, needle string
		want            int
	}{
		{"SOFTWARES", sw, 1},
		{"SOFTWARES", strings.ToUpper(sw), 1},
		{"SOFTWARES", "no-such-package-anywhere", 0},
		{"SOFTWARES", "%", 0},
		{"SOFTWARES", "_", 1}, // some name or version holds an underscore, or none: checked below
		{"NETWORKS", doc.Inventory.Networks[0].MACAddr, 1},
		{"NETWORKS", sw, 0},
	} {
		got, err := s.SectionContains(ctx, c.section, c.needle)
		if err != nil {
			t.Fatal(err)
		}
		want := c.want
		if c.needle == "_" {
			want = 0
			b, _ := json.Marshal(doc.Inventory.Softwares)
			if strings.Contains(string(b), "_") {
				want = 1
			}
		}
		if len(got) != want {
			t.Errorf("%s contains %q: %d devices, want %d", c.section, c.needle, len(got), want)
		}
	}
}
