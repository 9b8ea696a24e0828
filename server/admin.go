package server

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"muster/packages"
	"muster/server/election"
	"muster/server/store"
)

// Admin is every admin action on a server: the same whether the CLI runs
// on the server's host (LocalAdmin, over the store) or anywhere else (the
// API client, over /api/v1, which a LocalAdmin serves).
type Admin interface {
	Devices(ctx context.Context) ([]store.Device, error)
	Device(ctx context.Context, ref string) (*store.DeviceDetail, error)
	Netmap(ctx context.Context, unknownOnly bool, subnet string) ([]store.NetmapEntry, error)
	Subnets(ctx context.Context) ([]store.Subnet, error)
	// Elect sets a device's IPDISCOVER standing: ElectForced on subnet,
	// ElectNever, or ElectClear (back to automatic).
	Elect(ctx context.Context, deviceID, standing, subnet string) error
	// Schedule sets a subnet's rescan interval (0: none).
	Schedule(ctx context.Context, subnet string, every time.Duration) error
	// Options returns the IPDISCOVER options in effect, by OCS name.
	Options(ctx context.Context) (map[string]int64, error)
	SetOption(ctx context.Context, name, value string) error
	AddClient(ctx context.Context, name string) (store.Client, error)
	Clients(ctx context.Context) ([]store.Client, error)
	Release(ctx context.Context, deviceID string) error
	// RotateToken makes a new API token; the old one stops working.
	RotateToken(ctx context.Context) (string, error)
	Packages(ctx context.Context) ([]*packages.Info, error)
	Package(ctx context.Context, id string) (*packages.Info, error)
	// BuildPackage makes a package from src (a file, a directory or an
	// archive on this machine; "" for a command-only EXECUTE package).
	BuildPackage(ctx context.Context, src string, o packages.BuildOptions) (*packages.Info, error)
	DeletePackage(ctx context.Context, id string) error
	AssignPackage(ctx context.Context, id string, t store.PackageTarget, force bool) (int, error)
	PackageStatus(ctx context.Context, id string) ([]store.PackageState, error)
	// AddUser creates a console user, admin or viewer (with replace, sets
	// an existing one's role and password); Users lists them; AuditLog
	// is the newest changes, newest first.
	AddUser(ctx context.Context, name, role, password string, replace bool) error
	Users(ctx context.Context) ([]store.User, error)
	AuditLog(ctx context.Context, limit int) ([]store.AuditEntry, error)
	// Duplicates lists the records of one machine by the criteria of by
	// ("name,serial,mac"; "" for name and MAC); MergeDuplicates folds
	// each group into its newest record.
	Duplicates(ctx context.Context, by string) ([]DuplicateGroup, error)
	MergeDuplicates(ctx context.Context, by string) ([]DuplicateGroup, error)
	// PutGroup, Groups, GroupMembers and DeleteGroup keep device groups
	// (dynamic: a query; static: a list of devices).
	PutGroup(ctx context.Context, name, query string, members []string) error
	Groups(ctx context.Context) ([]store.Group, error)
	GroupMembers(ctx context.Context, name string) ([]store.GroupMember, error)
	DeleteGroup(ctx context.Context, name string) error
	// Find lists the devices a query of the device language matches.
	Find(ctx context.Context, q string) ([]store.GroupMember, error)
}

// Standings an admin gives a device in elections.
const (
	ElectForced = "forced" // elected on a subnet by the admin
	ElectNever  = "never"  // never elected
	ElectClear  = "clear"  // back to automatic
)

// LocalAdmin runs admin actions on a store directly (and behind the API).
type LocalAdmin struct {
	Store       store.Store
	PackagesDir string
	// Signer signs the packages BuildPackage makes; when nil, the key at
	// SigningKeyPath is loaded (made if absent) at the first build.
	Signer         ed25519.PrivateKey
	SigningKeyPath string
	Now            func() time.Time // time.Now if nil
}

func (l LocalAdmin) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// ErrInvalid marks an admin request that cannot be carried out as given.
var ErrInvalid = errors.New("invalid request")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// CheckSubnet accepts an IPv4 network address such as 192.168.1.0.
func CheckSubnet(s string) error {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return invalid("subnet %q: give its IPv4 network address, e.g. 192.168.1.0", s)
	}
	return nil
}

// Devices implements Admin.
func (l LocalAdmin) Devices(ctx context.Context) ([]store.Device, error) { return l.Store.Devices(ctx) }

// Device implements Admin.
func (l LocalAdmin) Device(ctx context.Context, ref string) (*store.DeviceDetail, error) {
	return l.Store.Device(ctx, ref)
}

// Netmap implements Admin.
func (l LocalAdmin) Netmap(ctx context.Context, unknownOnly bool, subnet string) ([]store.NetmapEntry, error) {
	return l.Store.Netmap(ctx, unknownOnly, subnet)
}

// Subnets implements Admin.
func (l LocalAdmin) Subnets(ctx context.Context) ([]store.Subnet, error) { return l.Store.Subnets(ctx) }

// Elect implements Admin.
func (l LocalAdmin) Elect(ctx context.Context, deviceID, standing, subnet string) error {
	switch standing {
	case ElectClear:
		return l.Store.SetElection(ctx, deviceID, -1, "", l.now())
	case ElectNever:
		return l.Store.SetElection(ctx, deviceID, int(election.Never), "", l.now())
	case ElectForced:
		if subnet == "" {
			return invalid("elect %s: which subnet? (elect DEVICE SUBNET)", deviceID)
		}
		if err := CheckSubnet(subnet); err != nil {
			return err
		}
		return l.Store.SetElection(ctx, deviceID, int(election.Forced), subnet, l.now())
	}
	return invalid("standing %q: want %s, %s or %s", standing, ElectForced, ElectNever, ElectClear)
}

// Schedule implements Admin.
func (l LocalAdmin) Schedule(ctx context.Context, subnet string, every time.Duration) error {
	if err := CheckSubnet(subnet); err != nil {
		return err
	}
	if every < 0 || (every > 0 && every < time.Minute) {
		return invalid("interval %v: want a minute or more, or 0", every)
	}
	return l.Store.SetSchedule(ctx, subnet, every)
}

// Options implements Admin.
func (l LocalAdmin) Options(ctx context.Context) (map[string]int64, error) {
	o, err := ElectionOptions(ctx, l.Store)
	if err != nil {
		return nil, err
	}
	var no int64
	if o.NoPostpone {
		no = 1
	}
	dup, err := l.Store.Option(ctx, "AUTO_DUPLICATE_LVL")
	if err != nil {
		return nil, err
	}
	lvl, _ := strconv.ParseInt(dup, 10, 64)
	return map[string]int64{"IPDISCOVER": int64(o.Max), "IPDISCOVER_LATENCY": o.Latency.Milliseconds(),
		"IPDISCOVER_MAX_ALIVE": int64(o.MaxAlive.Hours() / 24), "IPDISCOVER_BETTER_THRESHOLD": int64(o.BetterThreshold),
		"IPDISCOVER_NO_POSTPONE": no, "AUTO_DUPLICATE_LVL": lvl}, nil
}

// SetOption implements Admin.
func (l LocalAdmin) SetOption(ctx context.Context, name, value string) error {
	return SetOption(ctx, l.Store, name, value)
}

// AddClient implements Admin.
func (l LocalAdmin) AddClient(ctx context.Context, name string) (store.Client, error) {
	return AddClient(ctx, l.Store, name)
}

// Clients implements Admin.
func (l LocalAdmin) Clients(ctx context.Context) ([]store.Client, error) { return l.Store.Clients(ctx) }

// Release implements Admin.
func (l LocalAdmin) Release(ctx context.Context, deviceID string) error {
	return l.Store.Release(ctx, deviceID)
}

// RotateToken implements Admin.
func (l LocalAdmin) RotateToken(ctx context.Context) (string, error) {
	token, hash := NewAPIToken()
	if err := l.Store.RotateAPIToken(ctx, hash); err != nil {
		return "", err
	}
	return token, nil
}

// Packages implements Admin.
func (l LocalAdmin) Packages(ctx context.Context) ([]*packages.Info, error) {
	list, err := packages.Dir(l.PackagesDir).List()
	if list == nil {
		list = []*packages.Info{}
	}
	return list, err
}

// Package implements Admin.
func (l LocalAdmin) Package(ctx context.Context, id string) (*packages.Info, error) {
	return packages.Dir(l.PackagesDir).Load(id)
}

// BuildPackage implements Admin.
func (l LocalAdmin) BuildPackage(ctx context.Context, src string, o packages.BuildOptions) (*packages.Info, error) {
	o.Signer = l.Signer
	if o.Signer == nil && l.SigningKeyPath != "" {
		k, err := packages.LoadSigningKey(l.SigningKeyPath)
		if err != nil {
			return nil, err
		}
		o.Signer = k
	}
	info, err := packages.Build(packages.Dir(l.PackagesDir), src, o)
	if err != nil {
		return nil, fmt.Errorf("package build: %w", err)
	}
	return info, nil
}

// DeletePackage implements Admin.
func (l LocalAdmin) DeletePackage(ctx context.Context, id string) error {
	if err := packages.Dir(l.PackagesDir).Delete(id); err != nil {
		return err
	}
	return l.Store.ForgetPackage(ctx, id)
}

// AssignPackage implements Admin.
func (l LocalAdmin) AssignPackage(ctx context.Context, id string, t store.PackageTarget, force bool) (int, error) {
	if _, err := packages.Dir(l.PackagesDir).Load(id); err != nil {
		return 0, err
	}
	return l.Store.AssignPackage(ctx, id, t, force, l.now())
}

// PackageStatus implements Admin.
func (l LocalAdmin) PackageStatus(ctx context.Context, id string) ([]store.PackageState, error) {
	states, err := l.Store.PackageStates(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(states) == 0 {
		if _, err := packages.Dir(l.PackagesDir).Load(id); err != nil {
			return nil, err // no such package
		}
	}
	if states == nil {
		states = []store.PackageState{}
	}
	return states, nil
}
