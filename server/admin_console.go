package server

import (
	"cmp"
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"muster/inventories"
	"muster/server/store"
)

// Console users and the audit log, as admin actions (local or through the
// API), and the fleet page's search.

var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// MinPasswordLen is the shortest password a console user may have.
const MinPasswordLen = 8

// AddUser creates a console user (or, with replace, sets an existing one's
// role and password, ending its sessions). The password is kept only as a
// bcrypt hash.
func (l LocalAdmin) AddUser(ctx context.Context, name, role, password string, replace bool) error {
	if !userName.MatchString(name) {
		return invalid("user name %q: 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", name)
	}
	if role != store.RoleAdmin && role != store.RoleViewer {
		return invalid("role %q: want admin or viewer", role)
	}
	if len(password) < MinPasswordLen || len(password) > 72 {
		return invalid("password of %s: %d to 72 bytes (bcrypt's limit)", name, MinPasswordLen)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	return l.Store.PutUser(ctx, store.User{Name: name, Role: role, Hash: string(hash)}, replace)
}

// Users lists the console users (never their hashes).
func (l LocalAdmin) Users(ctx context.Context) ([]store.User, error) { return l.Store.Users(ctx) }

// AuditLog returns the newest changes, newest first (limit 1 to 1000).
func (l LocalAdmin) AuditLog(ctx context.Context, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return l.Store.AuditLog(ctx, limit)
}

// FleetQuery is a search of the fleet page: Q matches name, DEVICEID, IP,
// OS, tag and client (case-insensitive, every word must match), and its
// terms software:NAME[@VERSION] and mac:PART match installed software (the
// name contains NAME, the version starts with VERSION) and network
// interfaces' MACs; SeenDays
// keeps devices in contact within that many days; Sort is name, ip, os,
// client, tag, last_inventory or last_contact, Desc reverses it.
type FleetQuery struct {
	Q string
	// Where is a query of the device language (has/lacks software with
	// versions, OS, memory…), evaluated by the store; "" for none.
	Where    string
	SeenDays int
	Sort     string
	Desc     bool
	Page     int
	PerPage  int
}

// FleetPage is one page of a fleet search.
type FleetPage struct {
	Total   int            `json:"total"`
	Page    int            `json:"page"`
	PerPage int            `json:"per_page"`
	Devices []store.Device `json:"devices"`
}

var fleetSorts = map[string]func(a, b store.Device) int{
	"name":           func(a, b store.Device) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) },
	"ip":             func(a, b store.Device) int { return cmp.Compare(a.IPAddr, b.IPAddr) },
	"os":             func(a, b store.Device) int { return cmp.Compare(a.OSName+a.OSVersion, b.OSName+b.OSVersion) },
	"client":         func(a, b store.Device) int { return cmp.Compare(a.Client, b.Client) },
	"tag":            func(a, b store.Device) int { return cmp.Compare(a.Tag, b.Tag) },
	"last_inventory": func(a, b store.Device) int { return a.LastInventory.Compare(b.LastInventory) },
	"last_contact":   func(a, b store.Device) int { return a.LastContact.Compare(b.LastContact) },
}

// Fleet searches the devices. Without a page (PerPage 0) it returns every
// match, for the CSV export.
func (l LocalAdmin) Fleet(ctx context.Context, q FleetQuery) (FleetPage, error) {
	less, ok := fleetSorts[cmp.Or(q.Sort, "name")]
	if !ok {
		return FleetPage{}, invalid("sort %q: want name, ip, os, client, tag, last_inventory or last_contact", q.Sort)
	}
	if q.PerPage < 0 || q.PerPage > 1000 || q.Page < 0 {
		return FleetPage{}, invalid("page %d of %d: per_page is 1 to 1000", q.Page, q.PerPage)
	}
	all, err := l.Store.Devices(ctx)
	if err != nil {
		return FleetPage{}, err
	}
	var words []string
	var only map[int64]bool // devices a software: or mac: term allows
	for _, w := range strings.Fields(strings.ToLower(q.Q)) {
		var ids map[int64]bool
		switch {
		case strings.HasPrefix(w, "software:"):
			ids, err = l.softwareMatches(ctx, strings.TrimPrefix(w, "software:"))
		case strings.HasPrefix(w, "mac:"):
			ids, err = l.macMatches(ctx, strings.TrimPrefix(w, "mac:"))
		default:
			words = append(words, w)
			continue
		}
		if err != nil {
			return FleetPage{}, err
		}
		if only != nil {
			for id := range only {
				if !ids[id] {
					delete(only, id)
				}
			}
		} else {
			only = ids
		}
	}
	since := time.Time{}
	if q.SeenDays > 0 {
		since = l.now().AddDate(0, 0, -q.SeenDays)
	}
	if q.Where != "" {
		found, err := l.Find(ctx, q.Where)
		if err != nil {
			return FleetPage{}, err
		}
		ids := map[int64]bool{}
		for _, m := range found {
			if only == nil || only[m.ID] {
				ids[m.ID] = true
			}
		}
		only = ids
	}
	match := all[:0]
	for _, d := range all {
		if !since.IsZero() && d.LastContact.Before(since) && d.LastInventory.Before(since) {
			continue
		}
		if only != nil && !only[d.ID] {
			continue
		}
		hay := strings.ToLower(strings.Join([]string{d.Name, d.DeviceID, d.IPAddr, d.OSName, d.OSVersion, d.Tag, d.Client}, "\x00"))
		ok := true
		for _, w := range words {
			if !strings.Contains(hay, w) {
				ok = false
				break
			}
		}
		if ok {
			match = append(match, d)
		}
	}
	slices.SortStableFunc(match, func(a, b store.Device) int {
		if q.Desc {
			return less(b, a)
		}
		return less(a, b)
	})
	p := FleetPage{Total: len(match), Page: max(q.Page, 1), PerPage: q.PerPage, Devices: match}
	if q.PerPage > 0 {
		from := min((p.Page-1)*q.PerPage, len(match))
		p.Devices = match[from:min(from+q.PerPage, len(match))]
	}
	return p, nil
}

// DeviceStatus is what the device page shows beside the inventory: the
// packages assigned to the device and their results, and its IPDISCOVER
// standing (Mode -1: none; 0 never; 1 elected; 2 elected by an admin).
type DeviceStatus struct {
	DeviceID string               `json:"deviceid"`
	Client   string               `json:"client,omitempty"`
	Packages []store.PackageState `json:"packages"`
	Election store.Election       `json:"election"`
}

// DeviceStatus returns a device's packages and election (ref: its id or
// DEVICEID).
func (l LocalAdmin) DeviceStatus(ctx context.Context, ref string) (DeviceStatus, error) {
	d, err := l.Store.Device(ctx, ref)
	if err != nil {
		return DeviceStatus{}, err
	}
	st := DeviceStatus{DeviceID: d.DeviceID, Client: d.Client}
	if st.Packages, err = l.Store.DevicePackages(ctx, d.DeviceID); err != nil {
		return st, err
	}
	st.Election, err = l.Store.ElectionOf(ctx, d.DeviceID)
	return st, err
}

// Identify marks a device of the network map identified (a printer, a
// switch: it is no longer unknown); an empty type takes that back.
func (l LocalAdmin) Identify(ctx context.Context, mac, typ, description, who string) error {
	mac = strings.ToLower(strings.TrimSpace(mac))
	if len(typ) > 64 || len(description) > 512 {
		return invalid("type of at most 64 bytes, description of at most 512")
	}
	return l.Store.Identify(ctx, mac, strings.TrimSpace(typ), strings.TrimSpace(description), who, l.now())
}

// RequestPush queues the devices of the network map with these MACs for
// an agent push over transport (winrm, winrms or ssh): each is due at once
// in the retry queue, which muster push --queue takes. It returns the
// hosts queued.
func (l LocalAdmin) RequestPush(ctx context.Context, macs []string, transport string) ([]string, error) {
	if transport != "winrm" && transport != "winrms" && transport != "ssh" {
		return nil, invalid("transport %q: want winrm, winrms or ssh", transport)
	}
	if len(macs) == 0 || len(macs) > 4096 {
		return nil, invalid("select 1 to 4096 devices")
	}
	entries, err := l.Store.Netmap(ctx, false, "")
	if err != nil {
		return nil, err
	}
	byMAC := map[string]store.NetmapEntry{}
	for _, e := range entries {
		byMAC[e.MAC] = e
	}
	var hosts []string
	for _, m := range macs {
		e, ok := byMAC[strings.ToLower(strings.TrimSpace(m))]
		if !ok {
			return nil, invalid("%s is not in the network map", m)
		}
		host := transport + "://" + e.IP
		if err := l.Store.RecordPush(ctx, store.PushHost{Host: host, Name: e.IP, Transport: transport, Outcome: store.PushRequested, At: l.now()}); err != nil {
			return nil, err
		}
		hosts = append(hosts, host)
	}
	return hosts, nil
}

// softwareMatches is the devices with a software whose name contains name
// (and whose version starts with version, after an @), from the store's
// software index.
func (l LocalAdmin) softwareMatches(ctx context.Context, term string) (map[int64]bool, error) {
	name, version, _ := strings.Cut(term, "@")
	if name == "" {
		return nil, invalid("software: needs a name (software:firefox, software:firefox@115)")
	}
	return l.Store.SoftwareDevices(ctx, name, version)
}

// macMatches is the devices with an interface whose MAC contains part
// (with : or - between bytes, or none).
func (l LocalAdmin) macMatches(ctx context.Context, part string) (map[int64]bool, error) {
	norm := func(s string) string {
		return strings.NewReplacer(":", "", "-", "", ".", "").Replace(strings.ToLower(s))
	}
	p := norm(part)
	if p == "" {
		return nil, invalid("mac: needs part of a MAC address (mac:00:50:56)")
	}
	// Agents send MACs as aa:bb:cc:dd:ee:ff: a part typed with
	// separators is looked for as it is, one without by its first byte.
	needle := strings.ReplaceAll(strings.ToLower(part), "-", ":")
	if !strings.Contains(needle, ":") {
		needle = p[:min(len(p), 2)]
	}
	cands, err := l.Store.SectionContains(ctx, "NETWORKS", needle)
	if err != nil {
		return nil, err
	}
	ids := map[int64]bool{}
	for _, c := range cands {
		var nets []inventories.Network
		if json.Unmarshal(c.Data, &nets) != nil {
			continue
		}
		for _, n := range nets {
			if n.MACAddr != "" && strings.Contains(norm(n.MACAddr), p) {
				ids[c.DeviceID] = true
				break
			}
		}
	}
	return ids, nil
}
