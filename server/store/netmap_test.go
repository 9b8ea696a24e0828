package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"muster/inventories"
)

// A scan's hosts land in the network map; a MAC some inventory holds is
// known, the others unknown; schedules round-trip.
func testNetmapAndSchedules(t *testing.T, openTemp func(*testing.T) *DB) {
	s := openTemp(t)
	ctx := context.Background()
	doc := sample(t)
	now := time.Unix(1_800_000_000, 0)
	if _, err := s.SaveInventory(ctx, doc.DeviceID, doc.Inventory, Meta{Received: now}); err != nil {
		t.Fatal(err)
	}
	known := ""
	for _, n := range doc.Inventory.Networks {
		if n.MACAddr != "" {
			known = strings.ToLower(n.MACAddr)
			break
		}
	}
	if known == "" {
		t.Fatal("the sample inventory has no MAC")
	}
	hosts := []inventories.DiscoveredHost{
		{IP: "10.77.0.5", MAC: known, Name: "inventoried"},
		{IP: "10.77.0.9", MAC: "02:77:00:00:00:09", Name: "printer"},
		{IP: "bogus", MAC: "02:77:00:00:00:0a"}, // refused: not an address
	}
	n, err := s.RecordScan(ctx, doc.DeviceID, "10.77.0.0", "255.255.255.0", hosts, func(string) string { return "Vendor" }, now)
	if err != nil || n != 2 {
		t.Fatalf("RecordScan = %d, %v; want 2 hosts", n, err)
	}
	all, err := s.Netmap(ctx, false, "10.77.0.0")
	if err != nil || len(all) != 2 {
		t.Fatalf("Netmap = %+v, %v", all, err)
	}
	unknown, err := s.Netmap(ctx, true, "")
	if err != nil || len(unknown) != 1 || unknown[0].MAC != "02:77:00:00:00:09" || unknown[0].Vendor != "Vendor" {
		t.Fatalf("unknown devices = %+v, %v", unknown, err)
	}
	if err := s.SetSchedule(ctx, "10.77.0.0", 6*time.Hour); err != nil {
		t.Fatal(err)
	}
	every, last, err := s.Schedule(ctx, "10.77.0.0")
	if err != nil || every != 6*time.Hour || last.Unix() != now.Unix() {
		t.Fatalf("Schedule = %v, %v, %v", every, last, err)
	}
	if total, live, err := s.DeviceCounts(ctx, now.Add(-time.Hour)); err != nil || total != 1 || live != 1 {
		t.Fatalf("DeviceCounts = %d, %d, %v; want 1 device, in contact", total, live, err)
	}
	if _, live, _ := s.DeviceCounts(ctx, now.Add(time.Hour)); live != 0 {
		t.Fatalf("live since later: %d", live)
	}
	subnets, err := s.Subnets(ctx)
	if err != nil || len(subnets) != 1 || subnets[0].Live != 2 || subnets[0].Unknown != 1 || subnets[0].Rescan != "6h0m0s" {
		t.Fatalf("Subnets = %+v, %v", subnets, err)
	}
}

// Eight agents of one subnet report at once and the rule allows one
// elected agent: exactly one is elected, however the writes interleave.
func testConcurrentElectionsElectOnce(t *testing.T, openTemp func(*testing.T) *DB) {
	s := openTemp(t)
	ctx := context.Background()
	doc := sample(t)
	now := time.Unix(1_800_000_000, 0)
	const n = 8
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("agent%d-2026-01-01-00-00-00", i)
		if _, err := s.SaveInventory(ctx, ids[i], doc.Inventory, Meta{Received: now}); err != nil {
			t.Fatal(err)
		}
	}
	const subnet = "10.77.0.0"
	// Where writers run concurrently (PostgreSQL), every first decision
	// waits until all eight transactions have read: the worst interleaving,
	// every one of them seeing nobody elected.
	all := make(chan struct{})
	var arrived atomic.Int32
	var first sync.Map
	decide := func(self Election, elected map[string][]Election) ElectionChange {
		if _, again := first.LoadOrStore(self.DeviceID, true); !again && s.Backend() == "postgres" {
			if arrived.Add(1) == n {
				close(all)
			}
			select {
			case <-all:
			case <-time.After(30 * time.Second):
				t.Error("the eight elections never ran at once")
			}
		}
		if self.Mode >= 0 || len(elected[subnet]) >= 1 {
			return ElectionChange{}
		}
		return ElectionChange{Action: ElectionElect, Subnet: subnet}
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Elect(ctx, ids[i], now, decide)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("election of %s: %v", ids[i], err)
		}
	}
	elected, err := s.Elected(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(elected[subnet]) != 1 {
		t.Fatalf("%d agents elected on %s, want 1: %+v", len(elected[subnet]), subnet, elected[subnet])
	}
}
