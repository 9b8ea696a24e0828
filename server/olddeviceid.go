package server

import (
	"context"
	"errors"
	"strings"

	"muster/inventories"
	"muster/server/store"
)

// mergeOldDeviceID folds the record an agent names in OLD_DEVICEID into
// the one it now reports as, as the OCS server does, once the inventory is
// stored. Agents send OLD_DEVICEID after a host name change or a change of
// MACs, never both: so the old record must share the host name or a MAC
// with the new inventory. Without that, the claim is refused (logged), so
// that no client can take over another machine's history by naming it.
func (s *Server) mergeOldDeviceID(ctx context.Context, deviceID string, inv *inventories.Inventory) {
	oldID := strings.TrimSpace(inv.OldDeviceID)
	if oldID == "" || oldID == deviceID {
		return
	}
	old, err := s.store.Device(ctx, oldID)
	if errors.Is(err, store.ErrNotFound) {
		s.log.Debug("OLD_DEVICEID names no known device", "deviceid", deviceID, "old", oldID)
		return
	}
	if err != nil {
		s.log.Error("OLD_DEVICEID", "deviceid", deviceID, "old", oldID, "err", err)
		return
	}
	why := sameMachine(old.Inventory, inv)
	if why == "" {
		s.log.Warn("OLD_DEVICEID refused: the old record shares neither the host name nor a MAC", "deviceid", deviceID, "old", oldID)
		return
	}
	if err := s.store.MergeDevices(ctx, deviceID, oldID); err != nil {
		s.log.Error("OLD_DEVICEID merge", "deviceid", deviceID, "old", oldID, "err", err)
		return
	}
	s.log.Info("device merged (OLD_DEVICEID)", "deviceid", deviceID, "old", oldID, "evidence", why)
	s.audit(ctx, "agent "+deviceID, "merge "+oldID+" into "+deviceID, "OLD_DEVICEID, "+why)
}

// sameMachine says what two inventories share that makes them one machine
// ("" for nothing): the host name, or a MAC that is not a placeholder.
func sameMachine(a, b *inventories.Inventory) string {
	if a == nil || b == nil {
		return ""
	}
	if n := strings.TrimSpace(a.Hardware.Name); n != "" && strings.EqualFold(n, strings.TrimSpace(b.Hardware.Name)) {
		return "same host name"
	}
	macs := map[string]bool{}
	for _, n := range a.Networks {
		if m := normalMAC(n.MACAddr); m != "" {
			macs[m] = true
		}
	}
	for _, n := range b.Networks {
		if m := normalMAC(n.MACAddr); m != "" && macs[m] {
			return "shared MAC " + m
		}
	}
	return ""
}

// junkMACs are MACs that many machines report alike: placeholders of
// dial-up and loopback adapters ("DEST", "LOOP", "ASYN" in ASCII) and
// VMware's host-only and NAT adapters on the host side.
var junkMACs = map[string]bool{
	"00:00:00:00:00:00": true, "ff:ff:ff:ff:ff:ff": true, "44:45:53:54:00:00": true, "44:45:53:54:00:01": true,
	"02:00:4c:4f:4f:50": true, "20:41:53:59:4e:ff": true, "00:50:56:c0:00:01": true, "00:50:56:c0:00:08": true,
}

func normalMAC(m string) string {
	m = strings.ToLower(strings.TrimSpace(m))
	if len(m) != 17 || junkMACs[m] {
		return ""
	}
	return m
}
