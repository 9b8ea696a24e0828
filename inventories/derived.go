package inventories

import (
	"strconv"
	"strings"
)

// MemoryMB returns HARDWARE/MEMORY as a number of MB, or 0.
func (h *Hardware) MemoryMB() int64 { return leadingInt(h.Memory) }

// LogicalCPUs returns the number of logical processors: the sum of
// CPUS/LOGICAL_CPUS when agents send it, else of CPUS/CORES, else
// HARDWARE/PROCESSORN.
func (inv *Inventory) LogicalCPUs() int64 {
	var logical, cores int64
	for _, c := range inv.CPUs {
		logical += leadingInt(c.LogicalCPUs)
		cores += leadingInt(c.Cores)
	}
	switch {
	case logical > 0:
		return logical
	case cores > 0:
		return cores
	}
	return leadingInt(inv.Hardware.ProcessorCount)
}

// PrimaryIP picks the address the server records for the machine, as OCS
// does: the NETWORKS address the inventory came from when the machine has
// it, else HARDWARE/IPADDR.
func (inv *Inventory) PrimaryIP(clientIP string) string {
	if clientIP != "" {
		for _, n := range inv.Networks {
			if n.IPAddress == clientIP {
				return clientIP
			}
		}
	}
	return inv.Hardware.IPAddr
}

// leadingInt parses the integer at the start of s ("24105", "2 MiB",
// "274877.906944"), or returns 0.
func leadingInt(s string) int64 {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.ParseInt(s[:end], 10, 64)
	return n
}
