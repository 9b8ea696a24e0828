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

// chassisType names SMBIOS chassis types.
func chassisType(code string) string {
	names := map[string]string{"3": "Desktop", "4": "Low Profile Desktop", "6": "Mini Tower", "7": "Tower",
		"8": "Portable", "9": "Laptop", "10": "Notebook", "13": "All in One", "17": "Main Server Chassis",
		"23": "Rack Mount Chassis", "1": "Other", "2": "Unknown"}
	if n, ok := names[code]; ok {
		return n
	}
	return code
}
