//go:build linux

package inventories

import (
	"context"
	"errors"
	"strconv"
)

func init() { Register("memory", CollectorFunc(collectMemory)) }

// collectMemory reads /proc/meminfo (MEMORY and SWAP in MB, as the OCS
// agent counts them). Memory slots need DMI tables, which only dmidecode
// reads; they are left out where the kernel does not export them.
func collectMemory(ctx context.Context, inv *Inventory) error {
	m := ParseMeminfo(readSys("proc/meminfo"))
	total, ok := m["MemTotal"]
	if !ok {
		return errors.New("no MemTotal in /proc/meminfo")
	}
	inv.Hardware.Memory = strconv.FormatInt(total/1024, 10)
	inv.Hardware.Swap = strconv.FormatInt(m["SwapTotal"]/1024, 10)
	return nil
}
