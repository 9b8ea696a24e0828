//go:build linux

package inventories

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func init() { Register("storage", CollectorFunc(collectStorage)) }

// collectStorage lists block devices from /sys/block, skipping loop and
// RAM disks.
func collectStorage(ctx context.Context, inv *Inventory) error {
	entries, err := os.ReadDir(filepath.Join(root, "sys/block"))
	if err != nil {
		return fmt.Errorf("read /sys/block: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") {
			continue
		}
		d := "sys/block/" + name + "/"
		s := Storage{Name: name, Type: "disk", Model: readSys(d + "device/model"),
			Manufacturer: readSys(d + "device/vendor"), SerialNumber: readSys(d + "device/serial"),
			Firmware: readSys(d + "device/firmware_rev")}
		if readSys(d+"removable") == "1" {
			s.Type = "removable"
		}
		if sectors, err := strconv.ParseUint(readSys(d+"size"), 10, 64); err == nil && sectors > 0 {
			s.DiskSize = strconv.FormatUint(sectors*512/1_000_000, 10) // MB, as the OCS agent
		}
		inv.Storages = append(inv.Storages, s)
	}
	return nil
}
