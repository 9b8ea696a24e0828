//go:build linux

package inventories

import (
	"context"
	"errors"
	"strconv"
)

func init() { Register("cpu", CollectorFunc(collectCPU)) }

// collectCPU reads /proc/cpuinfo: one CPUS element per package.
func collectCPU(ctx context.Context, inv *Inventory) error {
	cpus := ParseCPUInfo(readSys("proc/cpuinfo"))
	if len(cpus) == 0 {
		return errors.New("no processor in /proc/cpuinfo")
	}
	inv.CPUs = cpus
	inv.Hardware.ProcessorType = cpus[0].Type
	inv.Hardware.ProcessorSpeed = cpus[0].Speed
	inv.Hardware.ProcessorCount = strconv.Itoa(len(cpus))
	return nil
}
