package server

import (
	"context"
	"errors"
	"strings"
	"testing"

	"muster/inventories"
	"muster/inventories/ocsxml"
	"muster/server/store"
)

// An agent that sends a new DEVICEID with OLD_DEVICEID keeps its device's
// history when the old record shares its host name or a MAC; a claim on a
// record that shares neither is refused.
func TestOldDeviceIDMerges(t *testing.T) {
	ts := start(t, Config{})
	ctx := context.Background()
	doc, err := inventories.ReadFile("../inventories/testdata/inventory.xml")
	if err != nil {
		t.Fatal(err)
	}
	send := func(id string, mutate func(inv *inventories.Inventory)) {
		t.Helper()
		inv := *doc.Inventory
		inv.Networks = append([]inventories.Network(nil), doc.Inventory.Networks...)
		mutate(&inv)
		if code, body := ts.post(t, "OCS-NG_unified_unix_agent_v2.10.0", ocsxml.Compress(inventories.Marshal(id, &inv))); code != 200 {
			t.Fatalf("inventory %s: %d %s", id, code, body)
		}
	}
	const first, renamed, stranger, hijack = "vm-2026-01-01-00-00-00", "vm2-2026-02-01-00-00-00", "other-2026-01-01-00-00-00", "evil-2026-03-01-00-00-00"
	send(first, func(inv *inventories.Inventory) {})
	if _, err := ts.store.AssignPackage(ctx, "1700000001", store.PackageTarget{Kind: store.TargetDevice, Value: first}, false, ts.now); err != nil {
		t.Fatal(err)
	}
	// A host name change: new DEVICEID, same MACs.
	send(renamed, func(inv *inventories.Inventory) { inv.Hardware.Name = "vm2"; inv.OldDeviceID = first })
	if _, err := ts.store.Device(ctx, first); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the old record survived the merge: %v", err)
	}
	if ps, _ := ts.store.DevicePackages(ctx, renamed); len(ps) != 1 || ps[0].PackageID != "1700000001" {
		t.Errorf("the renamed device's packages: %+v", ps)
	}
	// A record that shares neither name nor MAC cannot be claimed.
	send(stranger, func(inv *inventories.Inventory) {
		inv.Hardware.Name = "other"
		for i := range inv.Networks {
			inv.Networks[i].MACAddr = "02:00:00:00:00:0" + string(rune('1'+i%9))
		}
	})
	send(hijack, func(inv *inventories.Inventory) {
		inv.Hardware.Name = "evil"
		for i := range inv.Networks {
			inv.Networks[i].MACAddr = "02:00:00:00:01:0" + string(rune('1'+i%9))
		}
		inv.OldDeviceID = stranger
	})
	if _, err := ts.store.Device(ctx, stranger); err != nil {
		t.Errorf("a record sharing nothing was taken over: %v", err)
	}
	log, _ := ts.store.AuditLog(ctx, 10)
	if len(log) != 1 || log[0].Who != "agent "+renamed || !strings.Contains(log[0].Detail, "shared MAC") {
		t.Errorf("audit %+v", log)
	}
}
