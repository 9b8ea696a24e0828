// Package store keeps what the communication server learns: devices and
// their inventories, agent events, and API credentials. Store is the
// narrow interface the server uses; Open gives the embedded SQLite
// implementation, the default. A PostgreSQL implementation satisfies the
// same interface.
package store

import (
	"context"
	"errors"
	"time"

	"muster/inventories"
	"muster/inventories/ocsxml"
)

// ErrNotFound is returned when a device does not exist.
var ErrNotFound = errors.New("not found")

// Store is the persistence the communication server needs.
type Store interface {
	// Contact records a PROLOG from deviceID (contact count, regularity,
	// last contact, user agent) and returns what the server needs to answer
	// it, once the contact is durable. An unknown device yields Known=false
	// and is not created.
	Contact(ctx context.Context, deviceID, userAgent string, now time.Time) (ContactState, error)
	// SaveInventory stores one inventory in one transaction and returns only
	// after it is durable.
	SaveInventory(ctx context.Context, deviceID string, inv *inventories.Inventory, meta Meta) (SaveResult, error)
	// IdentityKeys reads the serial and MACs of some devices, or of all
	// (nil), for duplicate detection.
	IdentityKeys(ctx context.Context, ids []int64) (map[int64]IdentityKeys, error)
	// MergeDevices folds the record of oldID into keepID (OLD_DEVICEID,
	// duplicates) and deletes it.
	MergeDevices(ctx context.Context, keepID, oldID string) error
	// SaveEvent stores a NOTIFY, DOWNLOAD or SNMP message.
	SaveEvent(ctx context.Context, ev Event) error

	// Devices lists devices, most recently inventoried first.
	Devices(ctx context.Context) ([]Device, error)
	// SoftwareDevices finds the devices with a package whose name contains
	// a text and whose version starts with another (the software index).
	SoftwareDevices(ctx context.Context, name, version string) (map[int64]bool, error)
	// SectionContains finds the devices whose inventory section holds a
	// text (candidates for a field-by-field check).
	SectionContains(ctx context.Context, section, needle string) ([]SectionMatch, error)
	// DeviceCounts counts the devices, and those in contact since liveSince.
	DeviceCounts(ctx context.Context, liveSince time.Time) (total, live int, err error)
	// Device returns one device with its full inventory; ref is its numeric
	// id or its DEVICEID.
	Device(ctx context.Context, ref string) (*DeviceDetail, error)

	// AddClient creates a client with its activation code.
	AddClient(ctx context.Context, name, code string) (Client, error)
	// Clients lists the clients with their device counts.
	Clients(ctx context.Context) ([]Client, error)
	// Activate binds the device (created if the server has not seen it
	// yet) to the client of code: ErrUnknownCode if there is none. A
	// device bound already moves only with its secret (b.Presented), else
	// ErrBound; the device's secret becomes b.Next.
	Activate(ctx context.Context, code, deviceID string, b Binding, now time.Time) (Client, error)
	// Deactivate unbinds the device when presented is its secret's hash
	// (ErrBound otherwise); a device bound to no client is left alone.
	Deactivate(ctx context.Context, deviceID, presented string) error
	// Release unbinds the device whatever its secret: the admin's way
	// for an agent that lost it.
	Release(ctx context.Context, deviceID string) error

	// Option and SetOption read and set server options ("" = default).
	Option(ctx context.Context, name string) (string, error)
	SetOption(ctx context.Context, name, value string) error
	Options(ctx context.Context) (map[string]string, error)
	// ElectionOf is a device's IPDISCOVER standing; Elected lists the
	// elected devices by subnet.
	ElectionOf(ctx context.Context, deviceID string) (Election, error)
	Elected(ctx context.Context) (map[string][]Election, error)
	// SetElection sets a device's standing (mode -1 removes it).
	SetElection(ctx context.Context, deviceID string, mode int, subnet string, now time.Time) error
	// Elect decides and applies a device's election in one transaction.
	Elect(ctx context.Context, deviceID string, now time.Time, decide func(self Election, elected map[string][]Election) ElectionChange) (ElectionChange, error)
	// RecordScan stores an elected agent's IPDISCOVER results.
	RecordScan(ctx context.Context, deviceID, subnet, mask string, hosts []inventories.DiscoveredHost, vendor func(mac string) string, now time.Time) (int, error)
	// Netmap lists the devices seen; Subnets sums up each subnet.
	Netmap(ctx context.Context, unknownOnly bool, subnet string) ([]NetmapEntry, error)
	Subnets(ctx context.Context) ([]Subnet, error)
	// Identify marks a network device identified by an admin (type "":
	// unmarked).
	Identify(ctx context.Context, mac, typ, description, who string, at time.Time) error
	// SetSchedule and Schedule handle a subnet's rescan interval.
	SetSchedule(ctx context.Context, subnet string, every time.Duration) error
	Schedule(ctx context.Context, subnet string) (time.Duration, time.Time, error)

	// RecordPush stores a host's push outcome (unreachable ones queued);
	// PushQueue lists the queue, or only the hosts due.
	RecordPush(ctx context.Context, p PushHost) error
	PushQueue(ctx context.Context, dueOnly bool) ([]PushHost, error)
	// StartPushRun and FinishPushRun bound a run whose outcomes name it
	// (PushHost.Run); PushRuns lists runs with their counts, PushRunByID
	// is one, and PushRunEvents its outcomes in order (after an event id).
	StartPushRun(ctx context.Context, r PushRun) error
	FinishPushRun(ctx context.Context, id string, at time.Time) error
	PushRuns(ctx context.Context, limit int) ([]PushRun, error)
	PushRunByID(ctx context.Context, id string) (PushRun, error)
	PushRunEvents(ctx context.Context, runID string, after int64, limit int) ([]PushEvent, error)

	// AssignPackage assigns a package to a target and returns the number
	// of devices it reaches; PackageOffers are the packages to offer a
	// device (marked NOTIFIED); PackageResult records an agent's result;
	// PackageStates lists a package's devices; ForgetPackage drops its
	// assignments.
	AssignPackage(ctx context.Context, pkgID string, t PackageTarget, force bool, now time.Time) (int, error)
	PackageOffers(ctx context.Context, deviceID string, now time.Time) ([]PackageOffer, error)
	PackageResult(ctx context.Context, deviceID, pkgID, code string, now time.Time) (bool, error)
	PackageStates(ctx context.Context, pkgID string) ([]PackageState, error)
	// DevicePackages lists the packages assigned to a device and where
	// each stands.
	DevicePackages(ctx context.Context, deviceID string) ([]PackageState, error)
	ForgetPackage(ctx context.Context, pkgID string) error

	// RotateAPIToken replaces every API token with one of the given hash.
	RotateAPIToken(ctx context.Context, hash string) error
	// HasAPIToken reports whether an API token was ever set.
	HasAPIToken(ctx context.Context) (bool, error)
	// APITokenValid reports whether hash is the hash of a current token.
	APITokenValid(ctx context.Context, hash string) (bool, error)

	// PutUser, UserByName and Users keep the console's users; sessions
	// are their logins (by the hash of the cookie); Audit and AuditLog
	// record every change made through the API or the console.
	PutUser(ctx context.Context, u User, replace bool) error
	UserByName(ctx context.Context, name string) (User, error)
	Users(ctx context.Context) ([]User, error)
	CreateSession(ctx context.Context, se Session, now time.Time) error
	SessionByHash(ctx context.Context, hash string, now time.Time) (Session, error)
	DeleteSession(ctx context.Context, hash string) error
	Audit(ctx context.Context, e AuditEntry) error
	AuditLog(ctx context.Context, limit int) ([]AuditEntry, error)

	// PutGroup, GroupByName, Groups and DeleteGroup keep device groups;
	// GroupMembers evaluates one in SQL (a dynamic group's query, a static
	// group's list).
	PutGroup(ctx context.Context, g Group, now time.Time) error
	GroupByName(ctx context.Context, name string) (Group, error)
	Groups(ctx context.Context) ([]Group, error)
	DeleteGroup(ctx context.Context, name string) error
	GroupMembers(ctx context.Context, name string, now time.Time) ([]GroupMember, error)
	// Find evaluates a query of the device language without a group.
	Find(ctx context.Context, q string, now time.Time) ([]GroupMember, error)

	// Close flushes pending contact statistics and closes the store.
	Close() error
}

// Binding is what an activation proves and sets: the SHA-256 (hex) of
// the secret the agent presents ("" for none) and of the one it is given.
type Binding struct {
	Presented, Next string
}

// ErrBound is returned by Activate and Deactivate for a device bound to a
// client when the request does not present the device's secret.
var ErrBound = errors.New("the device is bound to a client: only a request with its secret moves or unbinds it")

// ErrUnknownCode is returned by Activate for a code no client has.
var ErrUnknownCode = errors.New("unknown activation code")

// ErrExists is returned by AddClient for a name or code already taken.
var ErrExists = errors.New("already exists")

// Client is a customer whose devices activate with its code.
type Client struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Code    string    `json:"code"`
	Created time.Time `json:"created"`
	Devices int       `json:"devices"`
}

// ContactState is what a PROLOG decision needs about a device.
type ContactState struct {
	Known bool
	// LastInventory is when the device last sent an inventory (zero if
	// never).
	LastInventory time.Time
}

// Meta is what the server knows about an inventory besides its content.
type Meta struct {
	// ClientIP is the address the inventory came from (empty for an import).
	ClientIP  string
	UserAgent string
	Received  time.Time
}

// SaveResult tells the server how to reply to an inventory.
type SaveResult struct {
	// Created is true when the inventory created the device.
	Created bool
	// DeviceID is the numeric id of the device.
	ID int64
	// AccountUpdate is set when the agent's account info differs from the
	// server's; AccountInfo then holds the server's full set.
	AccountUpdate bool
	AccountInfo   []ocsxml.KeyValue
}

// Event is an agent message that is not an inventory.
type Event struct {
	DeviceID string
	Query    string
	// Fields are the scalar fields of the request (ID, ERR, TYPE, …).
	Fields map[string]string
	At     time.Time
}

// Device is the summary of one device, as lists show it.
type Device struct {
	ID            int64     `json:"id"`
	DeviceID      string    `json:"deviceid"`
	Name          string    `json:"name"`
	OSName        string    `json:"osname"`
	OSVersion     string    `json:"osversion"`
	Arch          string    `json:"arch,omitempty"`
	IPAddr        string    `json:"ipaddr"`
	IPSource      string    `json:"ipsrc,omitempty"`
	MemoryMB      int64     `json:"memory_mb"`
	CPUs          int64     `json:"cpus"`
	Tag           string    `json:"tag"`
	Client        string    `json:"client,omitempty"`
	UserAgent     string    `json:"useragent"`
	Checksum      int64     `json:"checksum"`
	Fidelity      int64     `json:"fidelity"`
	Quality       float64   `json:"quality"`
	FirstSeen     time.Time `json:"first_seen"`
	LastInventory time.Time `json:"last_inventory"`
	LastContact   time.Time `json:"last_contact"`
}

// DeviceDetail is a device with everything it sent.
type DeviceDetail struct {
	Device
	Inventory *inventories.Inventory `json:"inventory"`
}
