// Package inventories holds the inventory of one machine as typed Go
// structs, one per OCS Inventory NG section, with the codec between those
// structs and the OCS XML that agents send, and the import of .ocs files.
//
// Values stay strings, as agents send them ("274877.906944", "-1 Mbps"):
// the model never loses what an agent wrote. Helpers parse the few numbers
// that muster itself uses. Fields a struct does not name are kept in its
// Other map, and whole sections the model does not know in Inventory.Extra.
package inventories

// Inventory is one machine's inventory: the CONTENT of an OCS INVENTORY
// request. The ocs tag names the XML section; bit is its CHECKSUM bit.
type Inventory struct {
	Hardware        Hardware         `ocs:"HARDWARE,bit=1" json:"hardware"`
	BIOS            BIOS             `ocs:"BIOS,bit=2" json:"bios"`
	Memories        []Memory         `ocs:"MEMORIES,bit=4" json:"memories,omitempty"`
	Slots           []Slot           `ocs:"SLOTS,bit=8" json:"slots,omitempty"`
	Registry        []Registry       `ocs:"REGISTRY,bit=16" json:"registry,omitempty"`
	Controllers     []Controller     `ocs:"CONTROLLERS,bit=32" json:"controllers,omitempty"`
	Monitors        []Monitor        `ocs:"MONITORS,bit=64" json:"monitors,omitempty"`
	Ports           []Port           `ocs:"PORTS,bit=128" json:"ports,omitempty"`
	Storages        []Storage        `ocs:"STORAGES,bit=256" json:"storages,omitempty"`
	Drives          []Drive          `ocs:"DRIVES,bit=512" json:"drives,omitempty"`
	Inputs          []Input          `ocs:"INPUTS,bit=1024" json:"inputs,omitempty"`
	Modems          []Modem          `ocs:"MODEMS,bit=2048" json:"modems,omitempty"`
	Networks        []Network        `ocs:"NETWORKS,bit=4096" json:"networks,omitempty"`
	Printers        []Printer        `ocs:"PRINTERS,bit=8192" json:"printers,omitempty"`
	Sounds          []Sound          `ocs:"SOUNDS,bit=16384" json:"sounds,omitempty"`
	Videos          []Video          `ocs:"VIDEOS,bit=32768" json:"videos,omitempty"`
	Softwares       []Software       `ocs:"SOFTWARES,bit=65536" json:"softwares,omitempty"`
	VirtualMachines []VirtualMachine `ocs:"VIRTUALMACHINES,bit=131072" json:"virtualmachines,omitempty"`
	CPUs            []CPU            `ocs:"CPUS,bit=262144" json:"cpus,omitempty"`
	SIMs            []SIM            `ocs:"SIM,bit=524288" json:"sim,omitempty"`
	Batteries       []Battery        `ocs:"BATTERIES,bit=1048576" json:"batteries,omitempty"`
	USBDevices      []USBDevice      `ocs:"USBDEVICES,bit=2097152" json:"usbdevices,omitempty"`
	Repositories    []Repository     `ocs:"REPOSITORY" json:"repository,omitempty"`
	LocalUsers      []LocalUser      `ocs:"LOCAL_USERS" json:"local_users,omitempty"`
	LocalGroups     []LocalGroup     `ocs:"LOCAL_GROUPS" json:"local_groups,omitempty"`

	// AccountInfo holds the administrative keys (TAG and custom fields).
	AccountInfo []AccountInfo `ocs:"ACCOUNTINFO" json:"accountinfo,omitempty"`
	// DownloadHistory lists the package IDs the agent has installed
	// (DOWNLOAD/HISTORY/PACKAGE ID=…).
	DownloadHistory []string `json:"download_history,omitempty"`
	// IPDiscover holds the hosts an elected agent found (IPDISCOVER/H).
	IPDiscover []DiscoveredHost `json:"ipdiscover,omitempty"`
	// OldDeviceID names the record this machine replaces, if any.
	OldDeviceID string `json:"old_deviceid,omitempty"`
	// Extra keeps sections the model has no struct for (agent plugins),
	// by section name, so that nothing an agent sent is dropped.
	Extra map[string][]Record `json:"extra,omitempty"`
}

// Record is one element of a section the model does not know: its scalar
// fields by name.
type Record map[string]string

// Hardware is the HARDWARE section: the machine itself.
type Hardware struct {
	Name               string `ocs:"NAME" json:"name,omitempty"`
	Workgroup          string `ocs:"WORKGROUP" json:"workgroup,omitempty"`
	UserDomain         string `ocs:"USERDOMAIN" json:"userdomain,omitempty"`
	OSName             string `ocs:"OSNAME" json:"osname,omitempty"`
	OSVersion          string `ocs:"OSVERSION" json:"osversion,omitempty"`
	OSComments         string `ocs:"OSCOMMENTS" json:"oscomments,omitempty"`
	ProcessorType      string `ocs:"PROCESSORT" json:"processort,omitempty"`
	ProcessorSpeed     string `ocs:"PROCESSORS" json:"processors,omitempty"`
	ProcessorCount     string `ocs:"PROCESSORN" json:"processorn,omitempty"`
	Memory             string `ocs:"MEMORY" json:"memory,omitempty"`
	Swap               string `ocs:"SWAP" json:"swap,omitempty"`
	IPAddr             string `ocs:"IPADDR" json:"ipaddr,omitempty"`
	DNS                string `ocs:"DNS" json:"dns,omitempty"`
	DefaultGateway     string `ocs:"DEFAULTGATEWAY" json:"defaultgateway,omitempty"`
	UserID             string `ocs:"USERID" json:"userid,omitempty"`
	Type               string `ocs:"TYPE" json:"type,omitempty"`
	Description        string `ocs:"DESCRIPTION" json:"description,omitempty"`
	WinCompany         string `ocs:"WINCOMPANY" json:"wincompany,omitempty"`
	WinOwner           string `ocs:"WINOWNER" json:"winowner,omitempty"`
	WinProdID          string `ocs:"WINPRODID" json:"winprodid,omitempty"`
	WinProdKey         string `ocs:"WINPRODKEY" json:"winprodkey,omitempty"`
	UUID               string `ocs:"UUID" json:"uuid,omitempty"`
	Arch               string `ocs:"ARCH" json:"arch,omitempty"`
	LastDate           string `ocs:"LASTDATE" json:"lastdate,omitempty"`
	Checksum           string `ocs:"CHECKSUM" json:"checksum,omitempty"`
	LastLoggedUser     string `ocs:"LASTLOGGEDUSER" json:"lastloggeduser,omitempty"`
	DateLastLoggedUser string `ocs:"DATELASTLOGGEDUSER" json:"datelastloggeduser,omitempty"`
	InstallDate        string `ocs:"INSTALLDATE" json:"installdate,omitempty"`
	VMSystem           string `ocs:"VMSYSTEM" json:"vmsystem,omitempty"`
	ETime              string `ocs:"ETIME" json:"etime,omitempty"`
	Other              Record `ocs:",other" json:"other,omitempty"`
}

// BIOS is the BIOS section: system, BIOS and board identity.
type BIOS struct {
	SystemManufacturer string `ocs:"SMANUFACTURER" json:"smanufacturer,omitempty"`
	SystemModel        string `ocs:"SMODEL" json:"smodel,omitempty"`
	SystemSerial       string `ocs:"SSN" json:"ssn,omitempty"`
	Type               string `ocs:"TYPE" json:"type,omitempty"`
	BIOSManufacturer   string `ocs:"BMANUFACTURER" json:"bmanufacturer,omitempty"`
	BIOSVersion        string `ocs:"BVERSION" json:"bversion,omitempty"`
	BIOSDate           string `ocs:"BDATE" json:"bdate,omitempty"`
	BoardManufacturer  string `ocs:"MMANUFACTURER" json:"mmanufacturer,omitempty"`
	BoardModel         string `ocs:"MMODEL" json:"mmodel,omitempty"`
	BoardSerial        string `ocs:"MSN" json:"msn,omitempty"`
	AssetTag           string `ocs:"ASSETTAG" json:"assettag,omitempty"`
	Other              Record `ocs:",other" json:"other,omitempty"`
}

// AccountInfo is one ACCOUNTINFO pair (TAG or a custom field).
type AccountInfo struct {
	KeyName  string `ocs:"KEYNAME" json:"keyname"`
	KeyValue string `ocs:"KEYVALUE" json:"keyvalue"`
}

// CPU is one CPUS element: a processor package.
type CPU struct {
	Manufacturer        string `ocs:"MANUFACTURER" json:"manufacturer,omitempty"`
	Type                string `ocs:"TYPE" json:"type,omitempty"`
	SerialNumber        string `ocs:"SERIALNUMBER" json:"serialnumber,omitempty"`
	Speed               string `ocs:"SPEED" json:"speed,omitempty"`
	Cores               string `ocs:"CORES" json:"cores,omitempty"`
	L2CacheSize         string `ocs:"L2CACHESIZE" json:"l2cachesize,omitempty"`
	CPUArch             string `ocs:"CPUARCH" json:"cpuarch,omitempty"`
	DataWidth           string `ocs:"DATA_WIDTH" json:"data_width,omitempty"`
	CurrentAddressWidth string `ocs:"CURRENT_ADDRESS_WIDTH" json:"current_address_width,omitempty"`
	LogicalCPUs         string `ocs:"LOGICAL_CPUS" json:"logical_cpus,omitempty"`
	Voltage             string `ocs:"VOLTAGE" json:"voltage,omitempty"`
	CurrentSpeed        string `ocs:"CURRENT_SPEED" json:"current_speed,omitempty"`
	Socket              string `ocs:"SOCKET" json:"socket,omitempty"`
	Threads             string `ocs:"THREADS" json:"threads,omitempty"`
	Sockets             string `ocs:"NBSOCKET" json:"nbsocket,omitempty"`
	Other               Record `ocs:",other" json:"other,omitempty"`
}

// Memory is one MEMORIES element: a memory slot or bank.
type Memory struct {
	Capacity     string `ocs:"CAPACITY" json:"capacity,omitempty"`
	Speed        string `ocs:"SPEED" json:"speed,omitempty"`
	Caption      string `ocs:"CAPTION" json:"caption,omitempty"`
	Description  string `ocs:"DESCRIPTION" json:"description,omitempty"`
	NumSlots     string `ocs:"NUMSLOTS" json:"numslots,omitempty"`
	Type         string `ocs:"TYPE" json:"type,omitempty"`
	Purpose      string `ocs:"PURPOSE" json:"purpose,omitempty"`
	SerialNumber string `ocs:"SERIALNUMBER" json:"serialnumber,omitempty"`
	Other        Record `ocs:",other" json:"other,omitempty"`
}

// Slot is one SLOTS element: an expansion slot.
type Slot struct {
	Name        string `ocs:"NAME" json:"name,omitempty"`
	Description string `ocs:"DESCRIPTION" json:"description,omitempty"`
	Designation string `ocs:"DESIGNATION" json:"designation,omitempty"`
	Purpose     string `ocs:"PURPOSE" json:"purpose,omitempty"`
	Status      string `ocs:"STATUS" json:"status,omitempty"`
	PShare      string `ocs:"PSHARE" json:"pshare,omitempty"`
	Other       Record `ocs:",other" json:"other,omitempty"`
}

// Registry is one REGISTRY element: a registry value the server asked for.
type Registry struct {
	Name     string `ocs:"NAME" json:"name,omitempty"`
	RegValue string `ocs:"REGVALUE" json:"regvalue,omitempty"`
	Other    Record `ocs:",other" json:"other,omitempty"`
}

// Controller is one CONTROLLERS element: a PCI or other controller.
type Controller struct {
	Manufacturer string `ocs:"MANUFACTURER" json:"manufacturer,omitempty"`
	Name         string `ocs:"NAME" json:"name,omitempty"`
	Caption      string `ocs:"CAPTION" json:"caption,omitempty"`
	Description  string `ocs:"DESCRIPTION" json:"description,omitempty"`
	Version      string `ocs:"VERSION" json:"version,omitempty"`
	Type         string `ocs:"TYPE" json:"type,omitempty"`
	PCIID        string `ocs:"PCIID" json:"pciid,omitempty"`
	PCISlot      string `ocs:"PCISLOT" json:"pcislot,omitempty"`
	Driver       string `ocs:"DRIVER" json:"driver,omitempty"`
	Other        Record `ocs:",other" json:"other,omitempty"`
}

// Monitor is one MONITORS element.
type Monitor struct {
	Manufacturer string `ocs:"MANUFACTURER" json:"manufacturer,omitempty"`
	Caption      string `ocs:"CAPTION" json:"caption,omitempty"`
	Description  string `ocs:"DESCRIPTION" json:"description,omitempty"`
	Type         string `ocs:"TYPE" json:"type,omitempty"`
	Serial       string `ocs:"SERIAL" json:"serial,omitempty"`
	Other        Record `ocs:",other" json:"other,omitempty"`
}

// Port is one PORTS element: a physical port.
type Port struct {
	Name        string `ocs:"NAME" json:"name,omitempty"`
	Caption     string `ocs:"CAPTION" json:"caption,omitempty"`
	Description string `ocs:"DESCRIPTION" json:"description,omitempty"`
	Type        string `ocs:"TYPE" json:"type,omitempty"`
	Other       Record `ocs:",other" json:"other,omitempty"`
}

// Storage is one STORAGES element: a disk or other storage device. DiskSize
// is in MB.
type Storage struct {
	Manufacturer string `ocs:"MANUFACTURER" json:"manufacturer,omitempty"`
	Name         string `ocs:"NAME" json:"name,omitempty"`
	Model        string `ocs:"MODEL" json:"model,omitempty"`
	Description  string `ocs:"DESCRIPTION" json:"description,omitempty"`
	Type         string `ocs:"TYPE" json:"type,omitempty"`
	DiskSize     string `ocs:"DISKSIZE" json:"disksize,omitempty"`
	SerialNumber string `ocs:"SERIALNUMBER" json:"serialnumber,omitempty"`
	Firmware     string `ocs:"FIRMWARE" json:"firmware,omitempty"`
	Other        Record `ocs:",other" json:"other,omitempty"`
}

// Drive is one DRIVES element: a mounted file system (a drive letter on
// Windows). Total and Free are in MB; on Unix Type holds the mount point.
type Drive struct {
	Letter     string `ocs:"LETTER" json:"letter,omitempty"`
	Type       string `ocs:"TYPE" json:"type,omitempty"`
	FileSystem string `ocs:"FILESYSTEM" json:"filesystem,omitempty"`
	Total      string `ocs:"TOTAL" json:"total,omitempty"`
	Free       string `ocs:"FREE" json:"free,omitempty"`
	Volume     string `ocs:"VOLUMN" json:"volumn,omitempty"`
	NumFiles   string `ocs:"NUMFILES" json:"numfiles,omitempty"`
	CreateDate string `ocs:"CREATEDATE" json:"createdate,omitempty"`
	Other      Record `ocs:",other" json:"other,omitempty"`
}

// Input is one INPUTS element: keyboard, mouse and the like.
type Input struct {
	Type         string `ocs:"TYPE" json:"type,omitempty"`
	Manufacturer string `ocs:"MANUFACTURER" json:"manufacturer,omitempty"`
	Caption      string `ocs:"CAPTION" json:"caption,omitempty"`
	Description  string `ocs:"DESCRIPTION" json:"description,omitempty"`
	Interface    string `ocs:"INTERFACE" json:"interface,omitempty"`
	PointType    string `ocs:"POINTTYPE" json:"pointtype,omitempty"`
	Other        Record `ocs:",other" json:"other,omitempty"`
}

// Modem is one MODEMS element.
type Modem struct {
	Name        string `ocs:"NAME" json:"name,omitempty"`
	Model       string `ocs:"MODEL" json:"model,omitempty"`
	Description string `ocs:"DESCRIPTION" json:"description,omitempty"`
	Type        string `ocs:"TYPE" json:"type,omitempty"`
	Other       Record `ocs:",other" json:"other,omitempty"`
}

// Network is one NETWORKS element: one address of one interface (an
// interface with IPv4 and IPv6 appears twice).
type Network struct {
	Description string `ocs:"DESCRIPTION" json:"description,omitempty"`
	Type        string `ocs:"TYPE" json:"type,omitempty"`
	TypeMIB     string `ocs:"TYPEMIB" json:"typemib,omitempty"`
	Speed       string `ocs:"SPEED" json:"speed,omitempty"`
	MTU         string `ocs:"MTU" json:"mtu,omitempty"`
	MACAddr     string `ocs:"MACADDR" json:"macaddr,omitempty"`
	Status      string `ocs:"STATUS" json:"status,omitempty"`
	IPAddress   string `ocs:"IPADDRESS" json:"ipaddress,omitempty"`
	IPMask      string `ocs:"IPMASK" json:"ipmask,omitempty"`
	IPGateway   string `ocs:"IPGATEWAY" json:"ipgateway,omitempty"`
	IPSubnet    string `ocs:"IPSUBNET" json:"ipsubnet,omitempty"`
	IPDHCP      string `ocs:"IPDHCP" json:"ipdhcp,omitempty"`
	VirtualDev  string `ocs:"VIRTUALDEV" json:"virtualdev,omitempty"`
	Driver      string `ocs:"DRIVER" json:"driver,omitempty"`
	Duplex      string `ocs:"DUPLEX" json:"duplex,omitempty"`
	Other       Record `ocs:",other" json:"other,omitempty"`
}

// Printer is one PRINTERS element.
type Printer struct {
	Name        string `ocs:"NAME" json:"name,omitempty"`
	Driver      string `ocs:"DRIVER" json:"driver,omitempty"`
	Port        string `ocs:"PORT" json:"port,omitempty"`
	Description string `ocs:"DESCRIPTION" json:"description,omitempty"`
	ServerName  string `ocs:"SERVERNAME" json:"servername,omitempty"`
	ShareName   string `ocs:"SHARENAME" json:"sharename,omitempty"`
	Resolution  string `ocs:"RESOLUTION" json:"resolution,omitempty"`
	Comment     string `ocs:"COMMENT" json:"comment,omitempty"`
	Shared      string `ocs:"SHARED" json:"shared,omitempty"`
	Network     string `ocs:"NETWORK" json:"network,omitempty"`
	Other       Record `ocs:",other" json:"other,omitempty"`
}

// Sound is one SOUNDS element.
type Sound struct {
	Name         string `ocs:"NAME" json:"name,omitempty"`
	Manufacturer string `ocs:"MANUFACTURER" json:"manufacturer,omitempty"`
	Description  string `ocs:"DESCRIPTION" json:"description,omitempty"`
	Other        Record `ocs:",other" json:"other,omitempty"`
}

// Video is one VIDEOS element: a graphics adapter.
type Video struct {
	Name       string `ocs:"NAME" json:"name,omitempty"`
	Chipset    string `ocs:"CHIPSET" json:"chipset,omitempty"`
	Memory     string `ocs:"MEMORY" json:"memory,omitempty"`
	Resolution string `ocs:"RESOLUTION" json:"resolution,omitempty"`
	Other      Record `ocs:",other" json:"other,omitempty"`
}

// Software is one SOFTWARES element: an installed package or program.
type Software struct {
	Name         string `ocs:"NAME" json:"name,omitempty"`
	Publisher    string `ocs:"PUBLISHER" json:"publisher,omitempty"`
	Version      string `ocs:"VERSION" json:"version,omitempty"`
	Folder       string `ocs:"FOLDER" json:"folder,omitempty"`
	Comments     string `ocs:"COMMENTS" json:"comments,omitempty"`
	FileName     string `ocs:"FILENAME" json:"filename,omitempty"`
	FileSize     string `ocs:"FILESIZE" json:"filesize,omitempty"`
	Source       string `ocs:"SOURCE" json:"source,omitempty"`
	GUID         string `ocs:"GUID" json:"guid,omitempty"`
	Language     string `ocs:"LANGUAGE" json:"language,omitempty"`
	InstallDate  string `ocs:"INSTALLDATE" json:"installdate,omitempty"`
	BitsWidth    string `ocs:"BITSWIDTH" json:"bitswidth,omitempty"`
	Architecture string `ocs:"ARCHITECTURE" json:"architecture,omitempty"`
	From         string `ocs:"FROM" json:"from,omitempty"`
	Status       string `ocs:"STATUS" json:"status,omitempty"`
	Other        Record `ocs:",other" json:"other,omitempty"`
}

// VirtualMachine is one VIRTUALMACHINES element: a guest this host runs.
type VirtualMachine struct {
	Name      string `ocs:"NAME" json:"name,omitempty"`
	Memory    string `ocs:"MEMORY" json:"memory,omitempty"`
	UUID      string `ocs:"UUID" json:"uuid,omitempty"`
	Status    string `ocs:"STATUS" json:"status,omitempty"`
	Subsystem string `ocs:"SUBSYSTEM" json:"subsystem,omitempty"`
	VMType    string `ocs:"VMTYPE" json:"vmtype,omitempty"`
	VCPU      string `ocs:"VCPU" json:"vcpu,omitempty"`
	Other     Record `ocs:",other" json:"other,omitempty"`
}

// SIM is one SIM element (mobile agents).
type SIM struct {
	Operator     string `ocs:"OPERATOR" json:"operator,omitempty"`
	OpName       string `ocs:"OPNAME" json:"opname,omitempty"`
	Country      string `ocs:"COUNTRY" json:"country,omitempty"`
	SerialNumber string `ocs:"SERIALNUMBER" json:"serialnumber,omitempty"`
	DeviceID     string `ocs:"DEVICEID" json:"deviceid,omitempty"`
	PhoneNumber  string `ocs:"PHONENUMBER" json:"phonenumber,omitempty"`
	Other        Record `ocs:",other" json:"other,omitempty"`
}

// Battery is one BATTERIES element.
type Battery struct {
	Name           string `ocs:"NAME" json:"name,omitempty"`
	Manufacturer   string `ocs:"MANUFACTURER" json:"manufacturer,omitempty"`
	SerialNumber   string `ocs:"SERIALNUMBER" json:"serialnumber,omitempty"`
	Chemistry      string `ocs:"CHEMISTRY" json:"chemistry,omitempty"`
	DesignCapacity string `ocs:"DESIGNCAPACITY" json:"designcapacity,omitempty"`
	DesignVoltage  string `ocs:"DESIGNVOLTAGE" json:"designvoltage,omitempty"`
	Other          Record `ocs:",other" json:"other,omitempty"`
}

// USBDevice is one USBDEVICES element.
type USBDevice struct {
	Description  string `ocs:"DESCRIPTION" json:"description,omitempty"`
	Interface    string `ocs:"INTERFACE" json:"interface,omitempty"`
	Manufacturer string `ocs:"MANUFACTURER" json:"manufacturer,omitempty"`
	Serial       string `ocs:"SERIAL" json:"serial,omitempty"`
	Type         string `ocs:"TYPE" json:"type,omitempty"`
	Other        Record `ocs:",other" json:"other,omitempty"`
}

// Repository is one REPOSITORY element: a package source of a Unix host.
type Repository struct {
	BaseURL string `ocs:"BASEURL" json:"baseurl,omitempty"`
	Name    string `ocs:"NAME" json:"name,omitempty"`
	Other   Record `ocs:",other" json:"other,omitempty"`
}

// LocalUser is one LOCAL_USERS element: an account of the machine.
type LocalUser struct {
	Login  string `ocs:"LOGIN" json:"login,omitempty"`
	Name   string `ocs:"NAME" json:"name,omitempty"`
	IDUser string `ocs:"ID_USER" json:"id_user,omitempty"`
	GID    string `ocs:"GID" json:"gid,omitempty"`
	Home   string `ocs:"HOME" json:"home,omitempty"`
	Shell  string `ocs:"SHELL" json:"shell,omitempty"`
	Other  Record `ocs:",other" json:"other,omitempty"`
}

// LocalGroup is one LOCAL_GROUPS element; Member lists the members joined
// by commas.
type LocalGroup struct {
	Name    string `ocs:"NAME" json:"name,omitempty"`
	IDGroup string `ocs:"ID_GROUP" json:"id_group,omitempty"`
	Member  string `ocs:"MEMBER" json:"member,omitempty"`
	Other   Record `ocs:",other" json:"other,omitempty"`
}

// DiscoveredHost is one IPDISCOVER/H element: a live device an elected agent
// found on its subnet. Name is empty when it has none (the wire's "-").
type DiscoveredHost struct {
	IP   string `json:"ip"`
	MAC  string `json:"mac"`
	Name string `json:"name,omitempty"`
}
