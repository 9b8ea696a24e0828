package inventories

import (
	"net"
	"sort"
	"strconv"
	"strings"
)

// The WMI classes the Windows collectors read, with the fields they use.
// Mapping them to sections is pure code (this file builds everywhere), so
// it is tested on recorded WMI data on any system; the *_windows.go files
// only query WMI and the registry.

// Win32ComputerSystem is WMI's Win32_ComputerSystem.
type Win32ComputerSystem struct {
	Name, Domain, Workgroup, Manufacturer, Model, UserName string
	TotalPhysicalMemory                                    uint64
	NumberOfProcessors                                     uint32
	PartOfDomain                                           bool
}

// Win32OperatingSystem is WMI's Win32_OperatingSystem.
type Win32OperatingSystem struct {
	Caption, Version, BuildNumber, OSArchitecture, SerialNumber string
	RegisteredUser, Organization, CSDVersion                    string
	TotalVirtualMemorySize, TotalVisibleMemorySize              uint64
}

// Win32BIOS is WMI's Win32_BIOS.
type Win32BIOS struct {
	Manufacturer, SMBIOSBIOSVersion, ReleaseDate, SerialNumber string
}

// Win32BaseBoard is WMI's Win32_BaseBoard.
type Win32BaseBoard struct {
	Manufacturer, Product, SerialNumber string
}

// Win32SystemEnclosure is WMI's Win32_SystemEnclosure.
type Win32SystemEnclosure struct {
	Manufacturer   string // read to tell a readable record from a broken one
	SMBIOSAssetTag string
	ChassisTypes   []uint16
}

// Win32Processor is WMI's Win32_Processor.
type Win32Processor struct {
	Manufacturer, Name, SocketDesignation, ProcessorId    string
	MaxClockSpeed, CurrentClockSpeed, NumberOfCores       uint32
	NumberOfLogicalProcessors, L2CacheSize                uint32
	AddressWidth, DataWidth, Architecture, CurrentVoltage uint16
}

// Win32PhysicalMemory is WMI's Win32_PhysicalMemory.
type Win32PhysicalMemory struct {
	BankLabel, DeviceLocator, SerialNumber, PartNumber string
	Capacity                                           uint64
	Speed                                              uint32
	SMBIOSMemoryType                                   uint32
}

// Win32DiskDrive is WMI's Win32_DiskDrive.
type Win32DiskDrive struct {
	Name, Model, Manufacturer, SerialNumber, FirmwareRevision, InterfaceType, MediaType string
	Size                                                                                uint64
}

// Win32LogicalDisk is WMI's Win32_LogicalDisk.
type Win32LogicalDisk struct {
	DeviceID, FileSystem, VolumeName, VolumeSerialNumber string
	Size, FreeSpace                                      uint64
	DriveType                                            uint32
}

// Win32NetworkAdapterConfiguration is WMI's class of that name (the
// adapters with IP enabled).
type Win32NetworkAdapterConfiguration struct {
	Description, MACAddress, ServiceName  string
	IPAddress, IPSubnet, DefaultIPGateway []string
	DNSServerSearchOrder                  []string
	DHCPEnabled                           bool
	Index                                 uint32
}

// WindowsData is everything the Windows collectors read, as recorded for
// tests.
type WindowsData struct {
	ComputerSystem  []Win32ComputerSystem
	OperatingSystem []Win32OperatingSystem
	BIOS            []Win32BIOS
	BaseBoard       []Win32BaseBoard
	Enclosure       []Win32SystemEnclosure
	Processors      []Win32Processor
	Memory          []Win32PhysicalMemory
	Disks           []Win32DiskDrive
	LogicalDisks    []Win32LogicalDisk
	Adapters        []Win32NetworkAdapterConfiguration
	// Uninstall are the values of each key under the registry's
	// Uninstall keys (64- and 32-bit views).
	Uninstall []map[string]string
}

func mb(bytes uint64) string { return strconv.FormatUint(bytes/(1<<20), 10) }

// MapWindowsHardware fills HARDWARE from the computer system and OS.
func MapWindowsHardware(cs []Win32ComputerSystem, os []Win32OperatingSystem, inv *Inventory) {
	h := &inv.Hardware
	if len(cs) > 0 {
		c := cs[0]
		h.Name = c.Name
		h.Workgroup = c.Workgroup
		if c.PartOfDomain {
			h.Workgroup = c.Domain
			h.UserDomain = c.Domain
		}
		h.Memory = mb(c.TotalPhysicalMemory)
		if c.UserName != "" {
			// DOMAIN\user: the server keeps the user part.
			_, user, found := strings.Cut(c.UserName, `\`)
			if !found {
				user = c.UserName
			}
			h.UserID = user
			h.LastLoggedUser = user
		}
	}
	if len(os) > 0 {
		o := os[0]
		h.OSName = strings.TrimSpace(o.Caption)
		h.OSVersion = o.Version
		h.OSComments = strings.TrimSpace(o.CSDVersion)
		if h.OSComments == "" {
			h.OSComments = "Build " + o.BuildNumber
		}
		h.WinOwner = o.RegisteredUser
		h.WinCompany = o.Organization
		h.WinProdID = o.SerialNumber
		h.Arch = o.OSArchitecture
		if o.TotalVirtualMemorySize > o.TotalVisibleMemorySize {
			h.Swap = strconv.FormatUint((o.TotalVirtualMemorySize-o.TotalVisibleMemorySize)/1024, 10)
		}
	}
}

// MapWindowsBIOS fills BIOS.
func MapWindowsBIOS(d *WindowsData, inv *Inventory) {
	b := &inv.BIOS
	if len(d.ComputerSystem) > 0 {
		b.SystemManufacturer, b.SystemModel = d.ComputerSystem[0].Manufacturer, d.ComputerSystem[0].Model
	}
	if len(d.BIOS) > 0 {
		x := d.BIOS[0]
		b.BIOSManufacturer, b.BIOSVersion, b.SystemSerial = x.Manufacturer, x.SMBIOSBIOSVersion, x.SerialNumber
		// WMI dates are CIM_DATETIME: yyyymmddHHMMSS.mmmmmmsUUU.
		if len(x.ReleaseDate) >= 8 {
			b.BIOSDate = x.ReleaseDate[4:6] + "/" + x.ReleaseDate[6:8] + "/" + x.ReleaseDate[0:4]
		}
	}
	if len(d.BaseBoard) > 0 {
		x := d.BaseBoard[0]
		b.BoardManufacturer, b.BoardModel, b.BoardSerial = x.Manufacturer, x.Product, x.SerialNumber
	}
	if len(d.Enclosure) > 0 {
		b.AssetTag = d.Enclosure[0].SMBIOSAssetTag
		if len(d.Enclosure[0].ChassisTypes) > 0 {
			b.Type = chassisType(strconv.Itoa(int(d.Enclosure[0].ChassisTypes[0])))
		}
	}
}

// MapWindowsCPUs fills CPUS and the processor fields of HARDWARE.
func MapWindowsCPUs(ps []Win32Processor, inv *Inventory) {
	for _, p := range ps {
		arch := map[uint16]string{0: "x86", 5: "ARM", 9: "x86_64", 12: "ARM64"}[p.Architecture]
		inv.CPUs = append(inv.CPUs, CPU{Manufacturer: vendor(p.Manufacturer), Type: strings.TrimSpace(p.Name),
			Speed: strconv.Itoa(int(p.MaxClockSpeed)), CurrentSpeed: strconv.Itoa(int(p.CurrentClockSpeed)),
			Cores: strconv.Itoa(int(p.NumberOfCores)), LogicalCPUs: strconv.Itoa(int(p.NumberOfLogicalProcessors)),
			Threads: strconv.Itoa(int(p.NumberOfLogicalProcessors)), L2CacheSize: strconv.Itoa(int(p.L2CacheSize)),
			DataWidth: strconv.Itoa(int(p.DataWidth)), CurrentAddressWidth: strconv.Itoa(int(p.AddressWidth)),
			Socket: p.SocketDesignation, CPUArch: arch, SerialNumber: p.ProcessorId,
			Voltage: voltage(p.CurrentVoltage)})
	}
	if len(ps) > 0 {
		inv.Hardware.ProcessorType = strings.TrimSpace(ps[0].Name)
		inv.Hardware.ProcessorSpeed = strconv.Itoa(int(ps[0].MaxClockSpeed))
		inv.Hardware.ProcessorCount = strconv.Itoa(len(ps))
	}
}

func voltage(v uint16) string {
	if v == 0 {
		return ""
	}
	// Win32_Processor.CurrentVoltage is tenths of a volt.
	return strconv.FormatFloat(float64(v)/10, 'f', 1, 64) + " V"
}

// MapWindowsMemories fills MEMORIES from the memory modules.
func MapWindowsMemories(ms []Win32PhysicalMemory, inv *Inventory) {
	types := map[uint32]string{20: "DDR", 21: "DDR2", 24: "DDR3", 26: "DDR4", 34: "DDR5"}
	for i, m := range ms {
		t := types[m.SMBIOSMemoryType]
		if t == "" {
			t = "Unknown"
		}
		inv.Memories = append(inv.Memories, Memory{Capacity: mb(m.Capacity), Speed: strconv.Itoa(int(m.Speed)),
			Caption: m.DeviceLocator, Description: strings.TrimSpace(m.BankLabel + " " + m.PartNumber),
			NumSlots: strconv.Itoa(i + 1), Type: t, Purpose: "System Memory", SerialNumber: strings.TrimSpace(m.SerialNumber)})
	}
}

// MapWindowsStorages fills STORAGES from the disk drives.
func MapWindowsStorages(ds []Win32DiskDrive, inv *Inventory) {
	for _, d := range ds {
		inv.Storages = append(inv.Storages, Storage{Name: d.Name, Model: strings.TrimSpace(d.Model),
			Manufacturer: d.Manufacturer, Description: d.InterfaceType, Type: d.MediaType,
			DiskSize: strconv.FormatUint(d.Size/1_000_000, 10), SerialNumber: strings.TrimSpace(d.SerialNumber),
			Firmware: d.FirmwareRevision})
	}
}

// MapWindowsDrives fills DRIVES from the logical disks.
func MapWindowsDrives(ls []Win32LogicalDisk, inv *Inventory) {
	kinds := map[uint32]string{2: "Removable Drive", 3: "Hard Drive", 4: "Network Drive", 5: "CD-Rom Drive", 6: "RAM Disk"}
	for _, l := range ls {
		inv.Drives = append(inv.Drives, Drive{Letter: l.DeviceID + "/", Type: kinds[l.DriveType], FileSystem: l.FileSystem,
			Total: mb(l.Size), Free: mb(l.FreeSpace), Volume: l.VolumeName})
	}
}

// MapWindowsNetworks fills NETWORKS, one element per address, and the
// gateway and DNS of HARDWARE.
func MapWindowsNetworks(as []Win32NetworkAdapterConfiguration, inv *Inventory) {
	sort.Slice(as, func(i, j int) bool { return as[i].Index < as[j].Index })
	for _, a := range as {
		dhcp := ""
		if a.DHCPEnabled {
			dhcp = "1"
		}
		gw := ""
		if len(a.DefaultIPGateway) > 0 {
			gw = a.DefaultIPGateway[0]
		}
		for i, ip := range a.IPAddress {
			n := Network{Description: a.Description, MACAddr: strings.ToLower(a.MACAddress), Status: "Up", Type: "Ethernet",
				IPAddress: ip, IPGateway: gw, IPDHCP: dhcp, Driver: a.ServiceName}
			if i < len(a.IPSubnet) {
				n.IPMask = a.IPSubnet[i]
				if ipv4 := parseIPv4(ip); ipv4 != nil {
					if m := parseIPv4(a.IPSubnet[i]); m != nil {
						n.IPSubnet = SubnetOf(ipv4, net.IPMask(m))
					}
				}
			}
			inv.Networks = append(inv.Networks, n)
		}
		if gw != "" && inv.Hardware.DefaultGateway == "" {
			inv.Hardware.DefaultGateway = gw
			if len(a.IPAddress) > 0 {
				inv.Hardware.IPAddr = a.IPAddress[0]
			}
			inv.Hardware.DNS = strings.Join(a.DNSServerSearchOrder, "/")
		}
	}
}

// MapWindowsSoftware fills SOFTWARES from the Uninstall keys, skipping
// system components and updates, as the OCS Windows agent does.
func MapWindowsSoftware(entries []map[string]string, inv *Inventory) {
	for _, e := range entries {
		name := strings.TrimSpace(e["DisplayName"])
		if name == "" || e["SystemComponent"] == "1" || e["ParentKeyName"] != "" {
			continue
		}
		s := Software{Name: name, Version: e["DisplayVersion"], Publisher: e["Publisher"], Folder: e["InstallLocation"],
			Comments: e["Comments"], GUID: e["KeyName"], Source: "registry", BitsWidth: e["BitsWidth"]}
		if d := e["InstallDate"]; len(d) == 8 {
			s.InstallDate = d[0:4] + "/" + d[4:6] + "/" + d[6:8]
		}
		if kb, err := strconv.ParseUint(e["EstimatedSize"], 10, 64); err == nil {
			s.FileSize = strconv.FormatUint(kb*1024, 10)
		}
		inv.Softwares = append(inv.Softwares, s)
	}
	sort.Slice(inv.Softwares, func(i, j int) bool { return inv.Softwares[i].Name < inv.Softwares[j].Name })
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
