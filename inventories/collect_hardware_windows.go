//go:build windows

package inventories

import "context"

func init() { Register("os", CollectorFunc(collectWinHardware)) }

func collectWinHardware(ctx context.Context, inv *Inventory) error {
	var cs []Win32ComputerSystem
	var os []Win32OperatingSystem
	if err := wmiQuery(&cs, ""); err != nil {
		return err
	}
	if err := wmiQuery(&os, ""); err != nil {
		return err
	}
	MapWindowsHardware(cs, os, inv)
	return nil
}
