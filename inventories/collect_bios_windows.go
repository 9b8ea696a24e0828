//go:build windows

package inventories

import "context"

func init() { Register("bios", CollectorFunc(collectWinBIOS)) }

func collectWinBIOS(ctx context.Context, inv *Inventory) error {
	var d WindowsData
	for _, q := range []any{&d.ComputerSystem, &d.BIOS, &d.BaseBoard, &d.Enclosure} {
		if err := wmiQuery(q, ""); err != nil {
			return err
		}
	}
	MapWindowsBIOS(&d, inv)
	return nil
}
