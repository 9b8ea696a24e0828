package inventories

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"muster/inventories/ocsxml"
)

func TestMapWindowsRecordedWMI(t *testing.T) {
	b, err := os.ReadFile("testdata/wmi-windows11.json")
	if err != nil {
		t.Fatal(err)
	}
	var d WindowsData
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	inv := &Inventory{}
	MapWindowsHardware(d.ComputerSystem, d.OperatingSystem, inv)
	MapWindowsBIOS(&d, inv)
	MapWindowsCPUs(d.Processors, inv)
	MapWindowsMemories(d.Memory, inv)
	MapWindowsStorages(d.Disks, inv)
	MapWindowsDrives(d.LogicalDisks, inv)
	MapWindowsNetworks(d.Adapters, inv)
	MapWindowsSoftware(d.Uninstall, inv)

	h := inv.Hardware
	checks := map[string][2]string{
		"name": {h.Name, "PC-042"}, "workgroup": {h.Workgroup, "corp.example"}, "os": {h.OSName, "Microsoft Windows 11 Pro"},
		"version": {h.OSVersion, "10.0.22631"}, "memory": {h.Memory, "16267"}, "swap": {h.Swap, "2821"},
		"user": {h.UserID, "alice"}, "gateway": {h.DefaultGateway, "10.20.30.1"}, "ip": {h.IPAddr, "10.20.30.42"},
		"dns": {h.DNS, "10.20.0.10/10.20.0.11"}, "cpu": {h.ProcessorType, "11th Gen Intel(R) Core(TM) i7-11700 @ 2.50GHz"},
		"bios date": {inv.BIOS.BIOSDate, "08/15/2023"}, "serial": {inv.BIOS.SystemSerial, "7XK2LM3"},
		"chassis": {inv.BIOS.Type, "Desktop"}, "asset": {inv.BIOS.AssetTag, "ASSET-0042"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: %q, want %q", what, c[0], c[1])
		}
	}
	if inv.LogicalCPUs() != 16 || inv.CPUs[0].Manufacturer != "Intel" || inv.CPUs[0].CPUArch != "x86_64" || inv.CPUs[0].Voltage != "0.8 V" {
		t.Errorf("cpus %+v", inv.CPUs)
	}
	if len(inv.Memories) != 2 || inv.Memories[0].Capacity != "8192" || inv.Memories[0].Type != "DDR4" {
		t.Errorf("memories %+v", inv.Memories)
	}
	if len(inv.Drives) != 2 || inv.Drives[0].Letter != "C:/" || inv.Drives[0].Type != "Hard Drive" || inv.Drives[1].Type != "CD-Rom Drive" {
		t.Errorf("drives %+v", inv.Drives)
	}
	wantNet := Network{Description: "Intel(R) Ethernet Connection (14) I219-LM", MACAddr: "a4:bb:6d:12:34:56", Status: "Up", Type: "Ethernet",
		IPAddress: "10.20.30.42", IPMask: "255.255.255.0", IPSubnet: "10.20.30.0", IPGateway: "10.20.30.1", IPDHCP: "1", Driver: "e1dexpress"}
	if len(inv.Networks) != 2 || !reflect.DeepEqual(inv.Networks[0], wantNet) {
		t.Errorf("networks %+v", inv.Networks)
	}
	// Updates, system components and nameless keys are not software.
	if len(inv.Softwares) != 2 || inv.Softwares[0].Name != "7-Zip 23.01 (x64 edition)" || inv.Softwares[0].InstallDate != "2024/01/02" ||
		inv.Softwares[0].FileSize != "5561344" || inv.Softwares[1].BitsWidth != "32" {
		t.Errorf("software %+v", inv.Softwares)
	}
	// And the result is valid OCS XML.
	if _, err := ParseDocument(Marshal("PC-042-2026-01-01-00-00-00", inv), 1<<20, ocsxml.DefaultLimits); err != nil {
		t.Fatal(err)
	}
}
