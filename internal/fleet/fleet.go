// Package fleet makes a fleet of distinct inventories out of one real
// agent's inventory, for tests and benchmarks: each machine gets its own
// DEVICEID, host name and MAC addresses, and keeps everything else, so the
// load is shaped like a real agent's.
package fleet

import (
	"fmt"

	"muster/inventories"
	"muster/inventories/ocsxml"
)

// Template is a parsed inventory to clone.
type Template struct {
	inv *inventories.Inventory
}

// Load reads a template from an OCS inventory file (XML or zlib).
func Load(path string) (*Template, error) {
	doc, err := inventories.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &Template{inv: doc.Inventory}, nil
}

// DeviceID returns the DEVICEID of machine i of a fleet called prefix.
func DeviceID(prefix string, i int) string {
	return fmt.Sprintf("%s%06d-2026-01-01-00-00-00", prefix, i)
}

// Machine returns the inventory of machine i: the template with a new host
// name and new MACs. The result shares no slices with the template that it
// changes.
func (t *Template) Machine(prefix string, i int) (string, *inventories.Inventory) {
	inv := *t.inv
	inv.Hardware.Name = fmt.Sprintf("%s%06d", prefix, i)
	inv.Hardware.Checksum = fmt.Sprint(inventories.AllChecksumBits)
	inv.Networks = append([]inventories.Network(nil), t.inv.Networks...)
	for j := range inv.Networks {
		if inv.Networks[j].MACAddr != "" {
			inv.Networks[j].MACAddr = fmt.Sprintf("02:%02x:%02x:%02x:%02x:%02x", j, byte(i>>24), byte(i>>16), byte(i>>8), byte(i))
		}
	}
	return DeviceID(prefix, i), &inv
}

// Body returns machine i's INVENTORY request, zlib-compressed as agents
// post it.
func (t *Template) Body(prefix string, i int) []byte {
	id, inv := t.Machine(prefix, i)
	return ocsxml.Compress(inventories.Marshal(id, inv))
}

// Prolog returns machine i's PROLOG request, zlib-compressed.
func Prolog(prefix string, i int) []byte {
	return ocsxml.Compress(ocsxml.Marshal(ocsxml.RequestDecl, ocsxml.NewRequest(DeviceID(prefix, i), ocsxml.QueryProlog, nil)))
}
