package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"muster/inventories"
)

// testGroups: dynamic groups are evaluated in SQL (software versions
// compared by their parts), static ones by their list; a package for a
// dynamic group reaches its members, later ones too, and is withdrawn
// from a device that leaves the group (an upgrade) before running it.
func testGroups(t *testing.T, open func(*testing.T) *DB) {
	s := open(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	doc := sample(t)
	save := func(id, zip string) {
		t.Helper()
		inv := *doc.Inventory
		inv.Softwares = append([]inventories.Software(nil), doc.Inventory.Softwares...)
		if zip != "" {
			inv.Softwares = append(inv.Softwares, inventories.Software{Name: "7-Zip", Version: zip})
		}
		inv.Hardware.Name = strings.SplitN(id, "-", 2)[0]
		inv.Hardware.Checksum = fmt.Sprint(inventories.AllChecksumBits) // as an agent whose software changed
		if _, err := s.SaveInventory(ctx, id, &inv, Meta{Received: now}); err != nil {
			t.Fatal(err)
		}
	}
	const a, b, c, d = "a-2026-01-01-00-00-00", "b-2026-01-01-00-00-00", "c-2026-01-01-00-00-00", "d-2026-01-01-00-00-00"
	save(a, "9.20")
	save(b, "23.01")
	save(c, "")
	for _, g := range []Group{
		{Name: "old-7zip", Query: `has software "7-zip" < "23"`},
		{Name: "no-7zip", Query: `lacks software "7-zip"`},
		{Name: "named-b-or-c", Query: `name = "B" or (name ~ "c" and not has software "7-zip")`},
		{Name: "pair", Members: []string{b, c, "nobody-2026-01-01-00-00-00"}},
	} {
		if err := s.PutGroup(ctx, g, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutGroup(ctx, Group{Name: "bad", Query: `os ~`}, now); err == nil || !strings.Contains(err.Error(), "want a value") {
		t.Errorf("a bad query: %v", err)
	}
	members := func(g string) string {
		m, err := s.GroupMembers(ctx, g, now)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, x := range m {
			ids = append(ids, x.DeviceID[:1])
		}
		return strings.Join(ids, ",")
	}
	for g, want := range map[string]string{"old-7zip": "a", "no-7zip": "c", "named-b-or-c": "b,c", "pair": "b,c"} {
		if got := members(g); got != want {
			t.Errorf("group %s: %q, want %q", g, got, want)
		}
	}
	if _, err := s.GroupMembers(ctx, "nope", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown group: %v", err)
	}

	// A package for the dynamic group: a now, d when it appears.
	if n, err := s.AssignPackage(ctx, "1700000001", PackageTarget{Kind: TargetGroup, Value: "old-7zip"}, false, now); err != nil || n != 1 {
		t.Fatalf("assign to the group: %d %v", n, err)
	}
	if _, err := s.AssignPackage(ctx, "1700000001", PackageTarget{Kind: TargetGroup, Value: "nope"}, false, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("assign to an unknown group: %v", err)
	}
	save(d, "4.65")
	offers := func(id string) int {
		o, err := s.PackageOffers(ctx, id, now)
		if err != nil {
			t.Fatal(err)
		}
		return len(o)
	}
	if offers(d) != 1 || offers(b) != 0 || offers(c) != 0 {
		t.Errorf("offers: d %d b %d c %d", offers(d), offers(b), offers(c))
	}
	// a upgrades before its next contact: it leaves the group, and the
	// package is not offered to it any more.
	save(a, "23.01")
	if offers(a) != 0 {
		t.Error("a package for the group is offered to a device that left it")
	}
	if st, _ := s.DevicePackages(ctx, a); len(st) != 0 {
		t.Errorf("a's states after it left the group: %+v", st)
	}
	// d ran it: a result stays, whatever the group does afterwards.
	s.PackageResult(ctx, d, "1700000001", "SUCCESS", now)
	save(d, "23.01")
	offers(d)
	if st, _ := s.DevicePackages(ctx, d); len(st) != 1 || st[0].State != "SUCCESS" {
		t.Errorf("d's result after it left the group: %+v", st)
	}
	if err := s.DeleteGroup(ctx, "old-7zip"); err != nil {
		t.Fatal(err)
	}
	if gs, _ := s.Groups(ctx); len(gs) != 3 {
		t.Errorf("groups after a delete: %+v", gs)
	}
}
