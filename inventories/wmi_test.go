package inventories

import (
	"reflect"
	"strings"
	"testing"
)

// TestWMIQueryText checks the WQL of every record type against the real
// class names and the properties those classes have (Microsoft's
// documentation of each Win32_ class). It catches a query from a Go type
// name ("FROM Win32Processor"), which matches no class.
func TestWMIQueryText(t *testing.T) {
	real := map[string][]string{
		"Win32_ComputerSystem":              {"Name", "Domain", "Workgroup", "Manufacturer", "Model", "UserName", "TotalPhysicalMemory", "NumberOfProcessors", "PartOfDomain"},
		"Win32_OperatingSystem":             {"Caption", "Version", "BuildNumber", "OSArchitecture", "SerialNumber", "RegisteredUser", "Organization", "CSDVersion", "TotalVirtualMemorySize", "TotalVisibleMemorySize"},
		"Win32_BIOS":                        {"Manufacturer", "SMBIOSBIOSVersion", "ReleaseDate", "SerialNumber"},
		"Win32_BaseBoard":                   {"Manufacturer", "Product", "SerialNumber"},
		"Win32_SystemEnclosure":             {"Manufacturer", "SMBIOSAssetTag", "ChassisTypes"},
		"Win32_Processor":                   {"Manufacturer", "Name", "SocketDesignation", "ProcessorId", "MaxClockSpeed", "CurrentClockSpeed", "NumberOfCores", "NumberOfLogicalProcessors", "L2CacheSize", "AddressWidth", "DataWidth", "Architecture", "CurrentVoltage"},
		"Win32_PhysicalMemory":              {"BankLabel", "DeviceLocator", "SerialNumber", "PartNumber", "Capacity", "Speed", "SMBIOSMemoryType"},
		"Win32_DiskDrive":                   {"Name", "Model", "Manufacturer", "SerialNumber", "FirmwareRevision", "InterfaceType", "MediaType", "Size"},
		"Win32_LogicalDisk":                 {"DeviceID", "FileSystem", "VolumeName", "VolumeSerialNumber", "Size", "FreeSpace", "DriveType"},
		"Win32_NetworkAdapterConfiguration": {"Description", "MACAddress", "ServiceName", "IPAddress", "IPSubnet", "DefaultIPGateway", "DNSServerSearchOrder", "DHCPEnabled", "Index"},
	}
	for _, dst := range []any{
		&[]Win32ComputerSystem{}, &[]Win32OperatingSystem{}, &[]Win32BIOS{}, &[]Win32BaseBoard{}, &[]Win32SystemEnclosure{},
		&[]Win32Processor{}, &[]Win32PhysicalMemory{}, &[]Win32DiskDrive{}, &[]Win32LogicalDisk{}, &[]Win32NetworkAdapterConfiguration{},
	} {
		q, err := WMIQueryText(dst, "")
		if err != nil {
			t.Fatal(err)
		}
		sel, class, ok := strings.Cut(strings.TrimPrefix(q, "SELECT "), " FROM ")
		props, known := real[class]
		if !ok || !known {
			t.Errorf("%T: %q names no real class", dst, q)
			continue
		}
		for _, p := range strings.Split(sel, ", ") {
			found := false
			for _, r := range props {
				found = found || r == p
			}
			if !found {
				t.Errorf("%s has no property %s", class, p)
			}
		}
	}
	if q, _ := WMIQueryText(&[]Win32NetworkAdapterConfiguration{}, "WHERE IPEnabled = TRUE"); !strings.HasSuffix(q, "FROM Win32_NetworkAdapterConfiguration WHERE IPEnabled = TRUE") {
		t.Errorf("where clause: %q", q)
	}
	if _, err := WMIQueryText(&[]struct{ A string }{}, ""); err == nil {
		t.Error("a record type with no named class was queried")
	}
}

// TestWMIAssign: automation values (as Windows and Wine hand them) into
// record fields.
func TestWMIAssign(t *testing.T) {
	var r struct {
		S    string
		U16  uint16
		U64  uint64
		B    bool
		List []string
		Nums []uint16
	}
	v := reflect.ValueOf(&r).Elem()
	for _, tc := range []struct {
		field string
		in    any
		fail  bool
	}{
		{"S", "AMD EPYC", false},
		{"S", int32(42), false},
		{"U16", int32(64), false},
		{"U16", int32(70000), true},
		{"U16", int32(-1), true},
		{"U64", "25769803776", false}, // CIM uint64 arrives as a string
		{"U64", "lots", true},
		{"B", true, false},
		{"B", "yes", true},
		{"List", []any{"10.0.0.2", "fe80::1"}, false},
		{"Nums", []any{int32(3), uint16(10)}, false},
		{"S", nil, false}, // NULL leaves the field alone
	} {
		err := wmiAssign(v.FieldByName(tc.field), tc.in)
		if (err != nil) != tc.fail {
			t.Errorf("%s <- %#v: err %v", tc.field, tc.in, err)
		}
	}
	if r.S != "42" || r.U16 != 64 || r.U64 != 25769803776 || !r.B || len(r.List) != 2 || !reflect.DeepEqual(r.Nums, []uint16{3, 10}) {
		t.Errorf("record %+v", r)
	}
}
