package store

import (
	"context"
	"testing"
	"time"

	"muster/inventories"
)

func testPackageClientRuleReachesLaterDevices(t *testing.T, openTemp func(*testing.T) *DB) {
	s := openTemp(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	c, err := s.AddClient(ctx, "ACME", "ABCDEFGHIJ")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Activate(ctx, c.Code, "early-2026-01-01-00-00-00", Binding{Next: "e"}, now); err != nil {
		t.Fatal(err)
	}
	n, err := s.AssignPackage(ctx, "1700000001", PackageTarget{Kind: TargetClient, Value: "ACME"}, false, now)
	if err != nil || n != 1 {
		t.Fatalf("assign to client: %d %v", n, err)
	}
	// A device activated later gets the package at its first PROLOG; a
	// device of no client does not.
	s.Activate(ctx, c.Code, "late-2026-01-01-00-00-00", Binding{Next: "l"}, now)
	if o, err := s.PackageOffers(ctx, "late-2026-01-01-00-00-00", now); err != nil || len(o) != 1 || o[0].ID != "1700000001" {
		t.Fatalf("later device: %+v %v", o, err)
	}
	s.Activate(ctx, c.Code, "other-2026-01-01-00-00-00", Binding{Next: "o"}, now)
	s.Deactivate(ctx, "other-2026-01-01-00-00-00", "o")
	if o, _ := s.PackageOffers(ctx, "other-2026-01-01-00-00-00", now); len(o) != 0 {
		t.Fatalf("device of no client offered %+v", o)
	}
	// A result ends the offers; the states list both devices.
	if ok, _ := s.PackageResult(ctx, "late-2026-01-01-00-00-00", "1700000001", "SUCCESS", now); !ok {
		t.Fatal("result not recorded")
	}
	if o, _ := s.PackageOffers(ctx, "late-2026-01-01-00-00-00", now); len(o) != 0 {
		t.Fatalf("offered after its result: %+v", o)
	}
	st, _ := s.PackageStates(ctx, "1700000001")
	if len(st) != 2 || st[0].State != StateAssigned || st[1].State != "SUCCESS" {
		t.Fatalf("states: %+v", st)
	}
	if dp, err := s.DevicePackages(ctx, "late-2026-01-01-00-00-00"); err != nil || len(dp) != 1 || dp[0].PackageID != "1700000001" || dp[0].State != "SUCCESS" {
		t.Fatalf("the device's packages: %+v %v", dp, err)
	}
	if dp, _ := s.DevicePackages(ctx, "nobody"); len(dp) != 0 {
		t.Fatalf("an unknown device's packages: %+v", dp)
	}
	if _, err := s.AssignPackage(ctx, "1", PackageTarget{Kind: TargetDevice, Value: "nobody"}, false, now); err == nil {
		t.Fatal("assigned to an unknown device")
	}
	if err := s.ForgetPackage(ctx, "1700000001"); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.PackageStates(ctx, "1700000001"); len(st) != 0 {
		t.Fatalf("states after forget: %+v", st)
	}
}

func testPackageInInventoryHistoryIsNotOffered(t *testing.T, openTemp func(*testing.T) *DB) {
	s := openTemp(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	dev := "pc-2026-01-01-00-00-00"
	inv := &inventories.Inventory{DownloadHistory: []string{"1700000001"}}
	inv.Hardware.Name = "pc"
	if _, err := s.SaveInventory(ctx, dev, inv, Meta{Received: now}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1700000001", "1700000002"} {
		if _, err := s.AssignPackage(ctx, id, PackageTarget{Kind: TargetDevice, Value: dev}, false, now); err != nil {
			t.Fatal(err)
		}
	}
	o, err := s.PackageOffers(ctx, dev, now)
	if err != nil || len(o) != 1 || o[0].ID != "1700000002" {
		t.Fatalf("offers: %+v %v", o, err)
	}
	if st, _ := s.PackageStates(ctx, "1700000001"); st[0].State != StateInHistory {
		t.Fatalf("state of the installed package: %+v", st)
	}
	// Forced, it is offered all the same.
	s.AssignPackage(ctx, "1700000001", PackageTarget{Kind: TargetDevice, Value: dev}, true, now)
	if o, _ := s.PackageOffers(ctx, dev, now); len(o) != 2 {
		t.Fatalf("forced offers: %+v", o)
	}
}
