//go:build windows

package inventories

import "context"

func init() { Register("cpu", CollectorFunc(collectWinCPU)) }

func collectWinCPU(ctx context.Context, inv *Inventory) error {
	var ps []Win32Processor
	if err := wmiQuery(&ps, ""); err != nil {
		return err
	}
	MapWindowsCPUs(ps, inv)
	return nil
}
