package server

import (
	"strings"
	"testing"
	"time"

	"muster/server/store"
)

func TestFindDuplicates(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	dev := func(id int64, name string, age time.Duration) store.Device {
		return store.Device{ID: id, DeviceID: name + "-" + string(rune('a'+id)), Name: name, LastInventory: t0.Add(-age)}
	}
	devs := []store.Device{dev(1, "pc1", 2*time.Hour), dev(2, "pc1", time.Hour), dev(3, "pc1", 0), dev(4, "pc2", 0), dev(5, "pc2", time.Hour), dev(6, "PC1", 3*time.Hour)}
	keys := map[int64]store.IdentityKeys{
		1: {Serial: "ABC123", MACs: []string{"02:00:00:00:00:01"}},
		2: {Serial: "ABC123", MACs: []string{"02:00:00:00:00:02", "02:00:00:00:00:01"}},
		3: {Serial: "Not Specified", MACs: []string{"02:00:00:00:00:09"}},          // pc1 by name, another MAC
		4: {Serial: "To be filled by O.E.M.", MACs: []string{"00:00:00:00:00:00"}}, // placeholders only
		5: {Serial: "To be filled by O.E.M.", MACs: []string{"00:00:00:00:00:00"}},
		6: {Serial: "abc123", MACs: []string{"02:00:00:00:00:01"}},
	}
	for _, c := range []struct {
		criteria int
		want     string // keep:others;…
	}{
		{DupName | DupMAC, "pc1-c:pc1-b,PC1-g"},
		{DupName, "pc1-d:pc1-c,pc1-b,PC1-g;pc2-e:pc2-f"},
		{DupSerial, "pc1-c:pc1-b,PC1-g"},
		{DupMAC, "pc1-c:pc1-b,PC1-g"},
		{DupName | DupSerial | DupMAC, "pc1-c:pc1-b,PC1-g"},
	} {
		var got []string
		for _, g := range findDuplicates(devs, keys, c.criteria) {
			var o []string
			for _, d := range g.Others {
				o = append(o, d.DeviceID)
			}
			got = append(got, g.Keep.DeviceID+":"+strings.Join(o, ","))
		}
		if strings.Join(got, ";") != c.want {
			t.Errorf("criteria %d: %q, want %q", c.criteria, strings.Join(got, ";"), c.want)
		}
	}
	if _, err := ParseDupCriteria("name,colour"); err == nil {
		t.Error("criterion colour taken")
	}
	if c, _ := ParseDupCriteria(" Serial , mac "); c != DupSerial|DupMAC {
		t.Errorf("serial,mac: %d", c)
	}
}
