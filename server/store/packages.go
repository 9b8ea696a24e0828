package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Package assignment target kinds.
const (
	TargetDevice = "device"
	TargetClient = "client"
	TargetTag    = "tag"
	TargetAll    = "all"
	// TargetGroup is a group's members: a dynamic group's as they are at
	// each of a device's contacts (one that left it before running the
	// package is no longer offered it).
	TargetGroup = "group"
)

// PackageTarget says which devices a package goes to: one device (its
// DEVICEID or numeric id), the devices of a client (name or code), of a
// TAG, or all of them.
type PackageTarget struct {
	Kind  string `json:"kind"`
	Value string `json:"value,omitempty"`
}

// PackageOffer is a package a PROLOG reply offers a device.
type PackageOffer struct {
	ID    string
	Force bool
}

// PackageState is where a package stands on one device.
type PackageState struct {
	PackageID string    `json:"package_id"`
	DeviceID  string    `json:"deviceid"`
	Name      string    `json:"name"`
	Force     bool      `json:"force"`
	State     string    `json:"state"` // ASSIGNED, NOTIFIED or the agent's result
	Updated   time.Time `json:"updated"`
}

// Stateless values of PackageState.State.
const (
	StateAssigned = "ASSIGNED"
	StateNotified = "NOTIFIED"
	// StateInHistory: the device's inventory lists the package as
	// installed already; it is not offered.
	StateInHistory = "SUCCESS_ALREADY_IN_HISTORY"
)

// AssignPackage assigns pkgID to target and returns how many devices it
// now reaches. Assigning again resets the devices' states, so the package
// is offered once more (an agent runs it again only with force).
func (s *DB) AssignPackage(ctx context.Context, pkgID string, t PackageTarget, force bool, now time.Time) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *txn) error {
		var err error
		n, err = assignPackage(ctx, tx, pkgID, t, force, now)
		return err
	})
	return n, err
}

func assignPackage(ctx context.Context, tx *txn, pkgID string, t PackageTarget, force bool, now time.Time) (int, error) {
	var err error
	var devices *sql.Rows
	switch t.Kind {
	case TargetDevice:
		devices, err = tx.QueryContext(ctx, `SELECT deviceid FROM devices WHERE deviceid = ? OR CAST(id AS TEXT) = ?`, t.Value, t.Value)
	case TargetGroup:
		g, gerr := groupIn(ctx, tx, t.Value)
		if gerr != nil {
			return 0, gerr
		}
		if _, err = tx.ExecContext(ctx, `INSERT INTO package_rules(package_id, kind, value, force) VALUES (?, ?, ?, ?)
			ON CONFLICT(package_id, kind, value) DO UPDATE SET force = excluded.force`, pkgID, t.Kind, t.Value, b2i(force)); err != nil {
			return 0, err
		}
		cond, args, cerr := groupCondition(g, now)
		if cerr != nil {
			return 0, cerr
		}
		devices, err = tx.QueryContext(ctx, `SELECT deviceid FROM devices d WHERE `+cond, args...)
	case TargetClient, TargetTag, TargetAll:
		if t.Kind == TargetAll {
			t.Value = ""
		}
		if _, err = tx.ExecContext(ctx, `INSERT INTO package_rules(package_id, kind, value, force) VALUES (?, ?, ?, ?)
			ON CONFLICT(package_id, kind, value) DO UPDATE SET force = excluded.force`, pkgID, t.Kind, t.Value, b2i(force)); err != nil {
			return 0, err
		}
		devices, err = tx.QueryContext(ctx, `SELECT deviceid FROM devices d WHERE `+ruleMatch, t.Kind, t.Value)
	default:
		return 0, fmt.Errorf("assign: target kind %q: want device, client, tag, group or all", t.Kind)
	}
	if err != nil {
		return 0, err
	}
	var ids []string
	for devices.Next() {
		var id string
		if err := devices.Scan(&id); err != nil {
			devices.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	devices.Close()
	if err := devices.Err(); err != nil {
		return 0, err
	}
	if t.Kind == TargetDevice && len(ids) == 0 {
		return 0, fmt.Errorf("assign: device %q: %w", t.Value, ErrNotFound)
	}
	via := ""
	if t.Kind == TargetGroup {
		via = t.Value
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO package_states(package_id, deviceid, force, state, updated, via) VALUES (?, ?, ?, NULL, ?, ?)
			ON CONFLICT(package_id, deviceid) DO UPDATE SET force = excluded.force, state = NULL, updated = excluded.updated, via = excluded.via`,
			pkgID, id, b2i(force), now.Unix(), via); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// ruleMatch is true for a device d that rule (kind ?1, value ?2) covers.
const ruleMatch = `(?1 = 'all'
	OR (?1 = 'client' AND d.client_id IN (SELECT id FROM clients WHERE name = ?2 OR code = ?2))
	OR (?1 = 'tag' AND EXISTS (SELECT 1 FROM accountinfo a WHERE a.device_id = d.id AND a.keyname = 'TAG' AND a.keyvalue = ?2)))`

// PackageOffers returns the packages to offer deviceID in a PROLOG reply:
// those assigned and not yet answered. It materialises the rules that
// cover the device and marks what it returns NOTIFIED.
func (s *DB) PackageOffers(ctx context.Context, deviceID string, now time.Time) ([]PackageOffer, error) {
	// Most PROLOGs have nothing to offer: find that out without a write.
	var pending bool
	if err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM package_rules)
		OR EXISTS (SELECT 1 FROM package_states WHERE deviceid = ? AND (state IS NULL OR state = ?))`,
		deviceID, StateNotified).Scan(&pending); err != nil || !pending {
		return nil, err
	}
	var offers []PackageOffer
	err := s.inTx(ctx, func(tx *txn) error {
		var err error
		offers, err = packageOffers(ctx, tx, deviceID, now)
		return err
	})
	return offers, err
}

func packageOffers(ctx context.Context, tx *txn, deviceID string, now time.Time) ([]PackageOffer, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO package_states(package_id, deviceid, force, state, updated)
		SELECT r.package_id, d.deviceid, r.force, NULL, ? FROM package_rules r JOIN devices d ON d.deviceid = ?
		WHERE `+ruleMatchR+` ON CONFLICT DO NOTHING`, now.Unix(), deviceID); err != nil {
		return nil, err
	}
	if err := groupOffers(ctx, tx, deviceID, now); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT package_id, force FROM package_states
		WHERE deviceid = ? AND (state IS NULL OR state = ?) ORDER BY package_id`, deviceID, StateNotified)
	if err != nil {
		return nil, err
	}
	var out []PackageOffer
	for rows.Next() {
		var o PackageOffer
		if err := rows.Scan(&o.ID, &o.Force); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return nil, err
	}
	// What the device's inventory lists as installed is not offered again
	// unless forced (a stock agent 2.10 offered one breaks its worker):
	// it is marked SUCCESS_ALREADY_IN_HISTORY, as the OCS server does.
	var hist []byte
	if err := tx.QueryRowContext(ctx, `SELECT s.data FROM sections s JOIN devices d ON d.id = s.device_id
		WHERE d.deviceid = ? AND s.section = ?`, deviceID, rowDownload).Scan(&hist); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	var installed []string
	json.Unmarshal(hist, &installed)
	kept := out[:0]
	for _, o := range out {
		if !o.Force && slices.Contains(installed, o.ID) {
			if _, err := tx.ExecContext(ctx, `UPDATE package_states SET state = ?, updated = ? WHERE package_id = ? AND deviceid = ?`,
				StateInHistory, now.Unix(), o.ID, deviceID); err != nil {
				return nil, err
			}
			continue
		}
		kept = append(kept, o)
	}
	out = kept
	if _, err := tx.ExecContext(ctx, `UPDATE package_states SET state = ?, updated = ?
		WHERE deviceid = ? AND state IS NULL`, StateNotified, now.Unix(), deviceID); err != nil {
		return nil, err
	}
	return out, nil
}

// ruleMatchR is ruleMatch over the columns of a package_rules row r.
const ruleMatchR = `(r.kind = 'all'
	OR (r.kind = 'client' AND d.client_id IN (SELECT id FROM clients WHERE name = r.value OR code = r.value))
	OR (r.kind = 'tag' AND EXISTS (SELECT 1 FROM accountinfo a WHERE a.device_id = d.id AND a.keyname = 'TAG' AND a.keyvalue = r.value)))`

// PackageResult records an agent's result for a package it was assigned;
// it reports whether there was such an assignment.
func (s *DB) PackageResult(ctx context.Context, deviceID, pkgID, code string, now time.Time) (bool, error) {
	if code == "" {
		code = "UNKNOWN_CODE"
	}
	res, err := s.w.ExecContext(ctx, `UPDATE package_states SET state = ?, updated = ? WHERE package_id = ? AND deviceid = ?`,
		code, now.Unix(), pkgID, deviceID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// PackageStates lists where pkgID stands on each device it is assigned to.
func (s *DB) PackageStates(ctx context.Context, pkgID string) ([]PackageState, error) {
	return s.packageStates(ctx, `p.package_id = ? ORDER BY p.deviceid`, pkgID)
}

// DevicePackages lists where every package assigned to a device stands,
// newest change first.
func (s *DB) DevicePackages(ctx context.Context, deviceID string) ([]PackageState, error) {
	return s.packageStates(ctx, `p.deviceid = ? ORDER BY p.updated DESC, p.package_id`, deviceID)
}

func (s *DB) packageStates(ctx context.Context, where string, arg string) ([]PackageState, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT p.package_id, p.deviceid, COALESCE(d.name, ''), p.force, COALESCE(p.state, ?), p.updated
		FROM package_states p LEFT JOIN devices d ON d.deviceid = p.deviceid WHERE `+where, StateAssigned, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []PackageState{}
	for rows.Next() {
		var p PackageState
		var at int64
		if err := rows.Scan(&p.PackageID, &p.DeviceID, &p.Name, &p.Force, &p.State, &at); err != nil {
			return nil, err
		}
		p.Updated = unix(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// ForgetPackage removes every assignment of pkgID (the package was deleted).
func (s *DB) ForgetPackage(ctx context.Context, pkgID string) error {
	_, err1 := s.w.ExecContext(ctx, `DELETE FROM package_rules WHERE package_id = ?`, pkgID)
	_, err2 := s.w.ExecContext(ctx, `DELETE FROM package_states WHERE package_id = ?`, pkgID)
	return errors.Join(err1, err2)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// groupOffers brings a device's package states in line with the groups
// packages target: a member gets a state (via its group); a state made
// for a group the device has left since is withdrawn unless the agent
// answered already.
func groupOffers(ctx context.Context, tx *txn, deviceID string, now time.Time) error {
	type rule struct {
		pkg, group string
		force      bool
	}
	var rules []rule
	rows, err := tx.QueryContext(ctx, `SELECT package_id, value, force FROM package_rules WHERE kind = 'group'`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var r rule
		if err := rows.Scan(&r.pkg, &r.group, &r.force); err != nil {
			rows.Close()
			return err
		}
		rules = append(rules, r)
	}
	rows.Close()
	member := map[string]bool{}
	isIn := func(group string) (bool, error) {
		if in, ok := member[group]; ok {
			return in, nil
		}
		in, err := inGroup(ctx, tx, group, deviceID, now)
		member[group] = in
		return in, err
	}
	for _, r := range rules {
		in, err := isIn(r.group)
		if err != nil {
			return err
		}
		if in {
			if _, err := tx.ExecContext(ctx, `INSERT INTO package_states(package_id, deviceid, force, state, updated, via)
				VALUES (?, ?, ?, NULL, ?, ?) ON CONFLICT DO NOTHING`, r.pkg, deviceID, b2i(r.force), now.Unix(), r.group); err != nil {
				return err
			}
		}
	}
	vias, err := tx.QueryContext(ctx, `SELECT package_id, via FROM package_states WHERE deviceid = ? AND via <> '' AND (state IS NULL OR state = ?)`,
		deviceID, StateNotified)
	if err != nil {
		return err
	}
	type pending struct{ pkg, group string }
	var ps []pending
	for vias.Next() {
		var p pending
		if err := vias.Scan(&p.pkg, &p.group); err != nil {
			vias.Close()
			return err
		}
		ps = append(ps, p)
	}
	vias.Close()
	for _, p := range ps {
		in, err := isIn(p.group)
		if err != nil {
			return err
		}
		if !in {
			if _, err := tx.ExecContext(ctx, `DELETE FROM package_states WHERE package_id = ? AND deviceid = ?`, p.pkg, deviceID); err != nil {
				return err
			}
		}
	}
	return nil
}

// groupIn reads a group in tx (ErrNotFound when there is none).
func groupIn(ctx context.Context, tx *txn, name string) (Group, error) {
	var g Group
	err := tx.QueryRowContext(ctx, `SELECT name, query FROM device_groups WHERE name = ?`, name).Scan(&g.Name, &g.Query)
	if errors.Is(err, sql.ErrNoRows) {
		return g, fmt.Errorf("assign: group %q: %w", name, ErrNotFound)
	}
	return g, err
}
