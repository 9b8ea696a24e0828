//go:build windows

package inventories

import "context"

func init() { Register("network", CollectorFunc(collectWinNetwork)) }

func collectWinNetwork(ctx context.Context, inv *Inventory) error {
	var as []Win32NetworkAdapterConfiguration
	if err := wmiQuery(&as, "WHERE IPEnabled = TRUE"); err != nil {
		return err
	}
	MapWindowsNetworks(as, inv)
	return nil
}
