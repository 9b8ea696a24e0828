//go:build linux

package inventories

import "context"

func init() { Register("bios", CollectorFunc(collectBIOS)) }

// collectBIOS reads system, BIOS and board identity from the kernel's DMI
// export (empty on machines without DMI, like many VMs).
func collectBIOS(ctx context.Context, inv *Inventory) error {
	d := "sys/class/dmi/id/"
	inv.BIOS = BIOS{
		SystemManufacturer: readSys(d + "sys_vendor"), SystemModel: readSys(d + "product_name"),
		SystemSerial: readSys(d + "product_serial"), BIOSManufacturer: readSys(d + "bios_vendor"),
		BIOSVersion: readSys(d + "bios_version"), BIOSDate: readSys(d + "bios_date"),
		BoardManufacturer: readSys(d + "board_vendor"), BoardModel: readSys(d + "board_name"),
		BoardSerial: readSys(d + "board_serial"), AssetTag: readSys(d + "chassis_asset_tag"),
		Type: chassisType(readSys(d + "chassis_type")),
	}
	return nil
}
