//go:build windows

package inventories

import "context"

func init() { Register("memory", CollectorFunc(collectWinMemory)) }

func collectWinMemory(ctx context.Context, inv *Inventory) error {
	var ms []Win32PhysicalMemory
	if err := wmiQuery(&ms, ""); err != nil {
		return err
	}
	MapWindowsMemories(ms, inv)
	return nil
}
