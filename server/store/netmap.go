package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"muster/inventories"
)

// Election is a device's standing for IPDISCOVER.
type Election struct {
	DeviceID  string    `json:"deviceid"`
	Name      string    `json:"name,omitempty"`
	Mode      int       `json:"mode"` // 0 never, 1 elected, 2 elected by an admin
	Subnet    string    `json:"subnet,omitempty"`
	Quality   float64   `json:"quality"`
	Fidelity  int       `json:"fidelity"`
	LastDate  time.Time `json:"last_inventory"`
	UserAgent string    `json:"useragent"`
}

// NetmapEntry is one device seen on the network.
type NetmapEntry struct {
	MAC       string    `json:"mac"`
	IP        string    `json:"ip"`
	Mask      string    `json:"mask,omitempty"`
	Subnet    string    `json:"subnet"`
	Name      string    `json:"name,omitempty"`
	Vendor    string    `json:"vendor,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	SeenBy    string    `json:"seen_by,omitempty"`
	// Unknown is set when no inventoried machine has this MAC and no
	// admin identified it.
	Unknown bool `json:"unknown"`
	// Inventoried is set when an inventoried machine has this MAC.
	Inventoried bool `json:"inventoried"`
	// Type and Description are an admin's identification ("" for none).
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
}

// Subnet sums up a subnet's discovery.
type Subnet struct {
	Subnet  string   `json:"subnet"`
	Elected []string `json:"elected"`
	// Agents are the elected agents with what won them the election (an
	// admin's choice, or their contact quality and fidelity).
	Agents   []Election `json:"agents"`
	LastScan time.Time  `json:"last_scan"`
	// NextScan is when a rescan is due (zero: no schedule, or never
	// scanned yet: at the elected agents' next contact).
	NextScan time.Time `json:"next_scan"`
	Live     int       `json:"live"`
	Unknown  int       `json:"unknown"`
	// Inventoried and Identified count the devices seen that an agent
	// inventories, and those an admin identified.
	Inventoried int           `json:"inventoried"`
	Identified  int           `json:"identified"`
	Interval    time.Duration `json:"-"`
	Rescan      string        `json:"rescan,omitempty"`
}

// Option returns a server option, or "" when unset.
func (s *DB) Option(ctx context.Context, name string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM options WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetOption sets a server option ("" removes it: back to the default).
func (s *DB) SetOption(ctx context.Context, name, value string) error {
	if value == "" {
		_, err := s.w.ExecContext(ctx, `DELETE FROM options WHERE name = ?`, name)
		return err
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO options(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value`, name, value)
	return err
}

// Options returns every option set.
func (s *DB) Options(ctx context.Context) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, value FROM options`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

const electionColumns = `d.deviceid, d.name, COALESCE(i.mode, -1), COALESCE(i.subnet, ''), d.quality, d.fidelity, d.lastdate, d.useragent`

func scanElection(sc scanner) (Election, error) {
	var e Election
	var last int64
	err := sc.Scan(&e.DeviceID, &e.Name, &e.Mode, &e.Subnet, &e.Quality, &e.Fidelity, &last, &e.UserAgent)
	e.LastDate = unix(last)
	return e, err
}

// ElectionOf returns a device's standing (Mode -1: none).
func (s *DB) ElectionOf(ctx context.Context, deviceID string) (Election, error) {
	e, err := scanElection(s.r.QueryRowContext(ctx, `SELECT `+electionColumns+` FROM devices d LEFT JOIN ipdiscover i ON i.device_id = d.id WHERE d.deviceid = ?`, deviceID))
	if errors.Is(err, sql.ErrNoRows) {
		return Election{}, fmt.Errorf("device %s: %w", deviceID, ErrNotFound)
	}
	return e, err
}

// Elected returns the elected devices (mode 1 and 2), by subnet.
func (s *DB) Elected(ctx context.Context) (map[string][]Election, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+electionColumns+` FROM devices d JOIN ipdiscover i ON i.device_id = d.id WHERE i.mode IN (1, 2) ORDER BY i.since, d.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]Election{}
	for rows.Next() {
		e, err := scanElection(rows)
		if err != nil {
			return nil, err
		}
		out[e.Subnet] = append(out[e.Subnet], e)
	}
	return out, rows.Err()
}

// SetElection sets a device's standing; mode -1 removes it.
func (s *DB) SetElection(ctx context.Context, deviceID string, mode int, subnet string, now time.Time) error {
	var id int64
	if err := s.w.QueryRowContext(ctx, `SELECT id FROM devices WHERE deviceid = ?`, deviceID).Scan(&id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("device %s: %w", deviceID, ErrNotFound)
		}
		return err
	}
	if mode < 0 {
		_, err := s.w.ExecContext(ctx, `DELETE FROM ipdiscover WHERE device_id = ?`, id)
		return err
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO ipdiscover(device_id, mode, subnet, since) VALUES (?, ?, ?, ?)
		ON CONFLICT(device_id) DO UPDATE SET mode = excluded.mode, subnet = excluded.subnet, since = excluded.since`, id, mode, subnet, now.Unix())
	return err
}

// RecordScan stores what an elected agent found on its subnet: one netmap
// row per MAC (IP, name and vendor updated, first seen kept), and the
// subnet's last scan.
func (s *DB) RecordScan(ctx context.Context, deviceID, subnet, mask string, hosts []inventories.DiscoveredHost, vendor func(mac string) string, now time.Time) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *txn) error {
		var id sql.NullInt64 // no device: a one-off report (muster discover --report)
		if deviceID != "" {
			if err := tx.QueryRowContext(ctx, `SELECT id FROM devices WHERE deviceid = ?`, deviceID).Scan(&id); err != nil {
				return err
			}
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO netmap(mac, ip, mask, subnet, name, vendor, first_seen, last_seen, seen_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(mac) DO UPDATE SET ip = excluded.ip, mask = excluded.mask, subnet = excluded.subnet,
				name = excluded.name, vendor = excluded.vendor, last_seen = excluded.last_seen, seen_by = excluded.seen_by`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, h := range hosts {
			mac := strings.ToLower(h.MAC)
			if !macRe.MatchString(mac) || !ipv4Re.MatchString(h.IP) {
				continue // as OCS: invalid entries are skipped
			}
			if _, err := st.ExecContext(ctx, mac, h.IP, mask, subnet, h.Name, vendor(mac), now.Unix(), now.Unix(), id); err != nil {
				return err
			}
			n++
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO subnets(subnet, last_scan) VALUES (?, ?) ON CONFLICT(subnet) DO UPDATE SET last_scan = excluded.last_scan`, subnet, now.Unix())
		return err
	})
	return n, err
}

// Netmap lists the devices seen, optionally only the unknown ones or one
// subnet's.
func (s *DB) Netmap(ctx context.Context, unknownOnly bool, subnet string) ([]NetmapEntry, error) {
	q := `SELECT n.mac, n.ip, n.mask, n.subnet, n.name, n.vendor, n.first_seen, n.last_seen, COALESCE(d.deviceid, ''),
		n.mac NOT IN (` + s.d.knownMACs + `), COALESCE(i.type, ''), COALESCE(i.description, '')
		FROM netmap n LEFT JOIN devices d ON d.id = n.seen_by LEFT JOIN identified i ON i.mac = n.mac
		WHERE (? = '' OR n.subnet = ?) ORDER BY n.subnet, n.ip`
	rows, err := s.r.QueryContext(ctx, q, subnet, subnet)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []NetmapEntry{}
	for rows.Next() {
		var e NetmapEntry
		var first, last int64
		var notInventoried bool
		if err := rows.Scan(&e.MAC, &e.IP, &e.Mask, &e.Subnet, &e.Name, &e.Vendor, &first, &last, &e.SeenBy, &notInventoried, &e.Type, &e.Description); err != nil {
			return nil, err
		}
		e.Inventoried = !notInventoried
		e.Unknown = notInventoried && e.Type == ""
		e.FirstSeen, e.LastSeen = unix(first), unix(last)
		if unknownOnly && !e.Unknown {
			continue
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Identify records an admin's identification of a device of the network
// map (ErrNotFound for a MAC the map has not seen); an empty type takes it
// back.
func (s *DB) Identify(ctx context.Context, mac, typ, description, who string, at time.Time) error {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM netmap WHERE mac = ?`, mac).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("network device %s: %w", mac, ErrNotFound)
	}
	if typ == "" {
		_, err := s.w.ExecContext(ctx, `DELETE FROM identified WHERE mac = ?`, mac)
		return err
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO identified(mac, type, description, who, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(mac) DO UPDATE SET type = excluded.type, description = excluded.description, who = excluded.who, at = excluded.at`,
		mac, typ, description, who, at.Unix())
	return err
}

// Subnets sums up every subnet with an elected agent, a scan or a schedule.
func (s *DB) Subnets(ctx context.Context) ([]Subnet, error) {
	elected, err := s.Elected(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.Netmap(ctx, false, "")
	if err != nil {
		return nil, err
	}
	by := map[string]*Subnet{}
	get := func(n string) *Subnet {
		if by[n] == nil {
			by[n] = &Subnet{Subnet: n, Elected: []string{}, Agents: []Election{}}
		}
		return by[n]
	}
	for n, es := range elected {
		for _, e := range es {
			get(n).Elected = append(get(n).Elected, e.DeviceID)
			get(n).Agents = append(get(n).Agents, e)
		}
	}
	for _, e := range m {
		sn := get(e.Subnet)
		sn.Live++
		switch {
		case e.Unknown:
			sn.Unknown++
		case e.Inventoried:
			sn.Inventoried++
		default:
			sn.Identified++
		}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT subnet, "interval", last_scan FROM subnets`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		var iv, last int64
		if err := rows.Scan(&n, &iv, &last); err != nil {
			return nil, err
		}
		sn := get(n)
		sn.Interval, sn.LastScan = time.Duration(iv)*time.Second, unix(last)
		if iv > 0 {
			sn.Rescan = sn.Interval.String()
			if last > 0 {
				sn.NextScan = sn.LastScan.Add(sn.Interval)
			}
		}
	}
	out := make([]Subnet, 0, len(by))
	for _, sn := range by {
		out = append(out, *sn)
	}
	sortSubnets(out)
	return out, rows.Err()
}

// SetSchedule sets a subnet's rescan interval (0: no schedule).
func (s *DB) SetSchedule(ctx context.Context, subnet string, every time.Duration) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO subnets(subnet, "interval") VALUES (?, ?) ON CONFLICT(subnet) DO UPDATE SET "interval" = excluded."interval"`,
		subnet, int64(every.Seconds()))
	return err
}

// Schedule returns a subnet's rescan interval and last scan.
func (s *DB) Schedule(ctx context.Context, subnet string) (time.Duration, time.Time, error) {
	var iv, last int64
	err := s.r.QueryRowContext(ctx, `SELECT "interval", last_scan FROM subnets WHERE subnet = ?`, subnet).Scan(&iv, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	return time.Duration(iv) * time.Second, unix(last), err
}

var (
	macRe  = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){5}$`)
	ipv4Re = regexp.MustCompile(`^\d{1,3}(\.\d{1,3}){3}$`)
)

func sortSubnets(s []Subnet) {
	sort.Slice(s, func(i, j int) bool { return s[i].Subnet < s[j].Subnet })
}
