package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"muster/inventories"
)

// testMergeDevices: the kept record takes the old one's package history,
// account info, activation, IPDISCOVER standing and statistics, keeps its
// own package states, and the old record is gone.
func testMergeDevices(t *testing.T, open func(*testing.T) *DB) {
	s := open(t)
	ctx := context.Background()
	t0 := time.Unix(1_800_000_000, 0)
	const oldID, newID = "pc-2026-01-01-00-00-00", "pc-2026-06-01-00-00-00"
	doc := sample(t)
	inv := *doc.Inventory
	inv.AccountInfo = []inventories.AccountInfo{{KeyName: "TAG", KeyValue: "FINANCE"}}
	if _, err := s.SaveInventory(ctx, oldID, &inv, Meta{Received: t0}); err != nil {
		t.Fatal(err)
	}
	c, err := s.AddClient(ctx, "acme", "ABCDEFGHIJ")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Activate(ctx, c.Code, oldID, Binding{Next: "secret-hash"}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetElection(ctx, oldID, 2, "10.77.0.0", t0); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct{ pkg, dev string }{{"1700000001", oldID}, {"1700000002", oldID}, {"1700000002", newID}} {
		if a.dev == newID {
			inv2 := *doc.Inventory
			inv2.AccountInfo = nil
			if _, err := s.SaveInventory(ctx, newID, &inv2, Meta{Received: t0.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AssignPackage(ctx, a.pkg, PackageTarget{Kind: TargetDevice, Value: a.dev}, false, t0); err != nil {
			t.Fatal(err)
		}
	}
	s.PackageResult(ctx, oldID, "1700000001", "SUCCESS", t0)
	s.PackageResult(ctx, oldID, "1700000002", "ERR_OLD", t0)

	if err := s.MergeDevices(ctx, newID, oldID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Device(ctx, oldID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the old record is still there: %v", err)
	}
	d, err := s.Device(ctx, newID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Tag != "FINANCE" || d.Client != "acme" || !d.FirstSeen.Equal(t0) {
		t.Errorf("kept record: tag %q client %q first seen %v", d.Tag, d.Client, d.FirstSeen)
	}
	states, _ := s.DevicePackages(ctx, newID)
	got := map[string]string{}
	for _, st := range states {
		got[st.PackageID] = st.State
	}
	if len(got) != 2 || got["1700000001"] != "SUCCESS" || got["1700000002"] != StateAssigned {
		t.Errorf("package states after the merge: %v", got)
	}
	if e, _ := s.ElectionOf(ctx, newID); e.Mode != 2 || e.Subnet != "10.77.0.0" {
		t.Errorf("election after the merge: %+v", e)
	}
	// The activation came along: the kept record now needs the secret.
	if _, err := s.Activate(ctx, c.Code, newID, Binding{Presented: "wrong", Next: "x"}, t0); !errors.Is(err, ErrBound) {
		t.Errorf("activation with a wrong secret after the merge: %v", err)
	}
	if err := s.MergeDevices(ctx, newID, oldID); !errors.Is(err, ErrNotFound) {
		t.Errorf("merging a gone record: %v", err)
	}
	if err := s.MergeDevices(ctx, newID, newID); err == nil {
		t.Error("a device merged into itself")
	}
}
