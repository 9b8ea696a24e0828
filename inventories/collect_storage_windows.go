//go:build windows

package inventories

import "context"

func init() {
	Register("storage", CollectorFunc(collectWinStorage))
	Register("filesystems", CollectorFunc(collectWinDrives))
}

func collectWinStorage(ctx context.Context, inv *Inventory) error {
	var ds []Win32DiskDrive
	if err := wmiQuery(&ds, ""); err != nil {
		return err
	}
	MapWindowsStorages(ds, inv)
	return nil
}

func collectWinDrives(ctx context.Context, inv *Inventory) error {
	var ls []Win32LogicalDisk
	if err := wmiQuery(&ls, ""); err != nil {
		return err
	}
	MapWindowsDrives(ls, inv)
	return nil
}
