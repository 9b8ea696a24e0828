package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"muster/inventories"
	"muster/inventories/ocsxml"
)

// SaveInventory implements Store. Sections whose CHECKSUM bit is clear are
// left as they are for a known device, as the OCS server does; sections
// without a bit are always rewritten.
func (s *DB) SaveInventory(ctx context.Context, deviceID string, inv *inventories.Inventory, meta Meta) (SaveResult, error) {
	var res SaveResult
	err := s.inTx(ctx, func(tx *txn) error {
		now := meta.Received.Unix()
		var old, lastdate int64
		err := tx.QueryRowContext(ctx, `SELECT id, checksum, lastdate FROM devices WHERE deviceid = ?`, deviceID).Scan(&res.ID, &old, &lastdate)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			res.Created = true
			if err := tx.QueryRowContext(ctx, `INSERT INTO devices(deviceid, first_seen, lastcome, fidelity) VALUES (?, ?, ?, 1) RETURNING id`,
				deviceID, now, now).Scan(&res.ID); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		// A device activated before its first inventory exists without
		// one: its first inventory is treated as a new device's.
		first := res.Created || lastdate == 0
		sum, hasSum := inv.Checksum()
		// devices.checksum accumulates "changed since last looked at" bits,
		// as OCS's hardware.CHECKSUM does; a new device changed everywhere.
		rewriteAll := first || !hasSum
		newSum := old | int64(sum) | 1
		if rewriteAll {
			newSum = int64(inventories.AllChecksumBits)
		}
		h := &inv.Hardware
		if inv.Len(mustSection("HARDWARE")) > 0 {
			_, err = tx.ExecContext(ctx, `UPDATE devices SET name=?, osname=?, osversion=?, arch=?, ipaddr=?,
				memory_mb=?, cpus=? WHERE id=?`,
				h.Name, h.OSName, h.OSVersion, h.Arch, inv.PrimaryIP(meta.ClientIP),
				h.MemoryMB(), inv.LogicalCPUs(), res.ID)
			if err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE devices SET ipsrc=?, useragent=?, checksum=?, lastdate=?, lastcome=? WHERE id=?`,
			meta.ClientIP, meta.UserAgent, newSum, now, now, res.ID)
		if err != nil {
			return err
		}
		if err := writeSections(ctx, tx, res.ID, inv, rewriteAll, sum); err != nil {
			return err
		}
		res.AccountUpdate, res.AccountInfo, err = syncAccountInfo(ctx, tx, res.ID, inv.AccountInfo, first)
		return err
	})
	if err != nil {
		return SaveResult{}, fmt.Errorf("save inventory of %s: %w", deviceID, err)
	}
	s.lastInv.Store(deviceID, meta.Received.Unix())
	return res, nil
}

func mustSection(name string) inventories.Section {
	sec, ok := inventories.LookupSection(name)
	if !ok {
		panic("store: unknown section " + name)
	}
	return sec
}

func writeSections(ctx context.Context, tx *txn, id int64, inv *inventories.Inventory, all bool, sum uint32) error {
	put, err := tx.PrepareContext(ctx, `INSERT INTO sections(device_id, section, data) VALUES (?, ?, ?)
		ON CONFLICT(device_id, section) DO UPDATE SET data = excluded.data`)
	if err != nil {
		return err
	}
	defer put.Close()
	del, err := tx.PrepareContext(ctx, `DELETE FROM sections WHERE device_id = ? AND section = ?`)
	if err != nil {
		return err
	}
	defer del.Close()
	write := func(name string, present bool, v any) error {
		if !present {
			_, err := del.ExecContext(ctx, id, name)
			return err
		}
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = put.ExecContext(ctx, id, name, data)
		return err
	}
	for _, sec := range inventories.Sections() {
		if sec.Name == inventories.SectionAccountInfo {
			continue
		}
		if !all && sec.Bit != 0 && sum&sec.Bit == 0 {
			continue
		}
		n := inv.Len(sec)
		if n == 0 && !sec.Multi {
			continue // an empty HARDWARE or BIOS leaves the stored one alone
		}
		if err := write(sec.Name, n > 0, inv.Field(sec)); err != nil {
			return fmt.Errorf("section %s: %w", sec.Name, err)
		}
		if sec.Name == "SOFTWARES" {
			if err := writeSoftware(ctx, tx, id, inv.Softwares); err != nil {
				return err
			}
		}
	}
	if err := write(rowDownload, len(inv.DownloadHistory) > 0, inv.DownloadHistory); err != nil {
		return err
	}
	if err := write(rowIPDisc, len(inv.IPDiscover) > 0, inv.IPDiscover); err != nil {
		return err
	}
	if err := write(rowExtra, len(inv.Extra) > 0, inv.Extra); err != nil {
		return err
	}
	return write(rowOldID, inv.OldDeviceID != "", inv.OldDeviceID)
}

// syncAccountInfo applies OCS's account info rules: a new device takes the
// agent's values (TAG defaults to NA); for a known device the server's
// values win, and the agent is told them when it sent something else.
func syncAccountInfo(ctx context.Context, tx *txn, id int64, sent []inventories.AccountInfo, created bool) (bool, []ocsxml.KeyValue, error) {
	insert := func(kvs map[string]string) error {
		for k, v := range kvs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO accountinfo(device_id, keyname, keyvalue) VALUES (?, ?, ?)
				ON CONFLICT(device_id, keyname) DO UPDATE SET keyvalue = excluded.keyvalue`, id, k, v); err != nil {
				return err
			}
		}
		return nil
	}
	agent := map[string]string{}
	for _, a := range sent {
		agent[a.KeyName] = a.KeyValue
	}
	if created {
		vals := map[string]string{"TAG": "NA"}
		for k, v := range agent {
			if v != "" {
				vals[k] = v
			}
		}
		return false, nil, insert(vals)
	}
	rows, err := tx.QueryContext(ctx, `SELECT keyname, keyvalue FROM accountinfo WHERE device_id = ? ORDER BY keyname`, id)
	if err != nil {
		return false, nil, err
	}
	var db []ocsxml.KeyValue
	for rows.Next() {
		var kv ocsxml.KeyValue
		if err := rows.Scan(&kv.Key, &kv.Value); err != nil {
			rows.Close()
			return false, nil, err
		}
		db = append(db, kv)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, nil, err
	}
	if len(db) == 0 {
		// The row was lost: recreate it from the agent, marked as such.
		vals := map[string]string{}
		for k, v := range agent {
			vals[k] = v
		}
		vals["TAG"] = "LOST"
		if err := insert(vals); err != nil {
			return false, nil, err
		}
		for k, v := range vals {
			db = append(db, ocsxml.KeyValue{Key: k, Value: v})
		}
		sort.Slice(db, func(i, j int) bool { return db[i].Key < db[j].Key })
		return true, db, nil
	}
	differ := len(agent) != len(db)
	for _, kv := range db {
		if v, ok := agent[kv.Key]; !ok || v != kv.Value {
			differ = true
		}
	}
	if !differ {
		return false, nil, nil
	}
	return true, db, nil
}

// SaveEvent implements Store.
func (s *DB) SaveEvent(ctx context.Context, ev Event) error {
	fields, err := json.Marshal(ev.Fields)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO events(at, deviceid, query, fields) VALUES (?, ?, ?, ?)`,
		ev.At.Unix(), ev.DeviceID, ev.Query, fields)
	if err != nil {
		return fmt.Errorf("save %s event of %s: %w", ev.Query, ev.DeviceID, err)
	}
	return nil
}

const deviceColumns = `d.id, d.deviceid, d.name, d.osname, d.osversion, d.arch, d.ipaddr, d.ipsrc,
	d.memory_mb, d.cpus, COALESCE((SELECT keyvalue FROM accountinfo a WHERE a.device_id = d.id AND a.keyname = 'TAG'), ''),
	d.useragent, d.checksum, d.fidelity, d.quality, d.first_seen, d.lastdate, d.lastcome,
	COALESCE((SELECT name FROM clients c WHERE c.id = d.client_id), '')`

type scanner interface{ Scan(...any) error }

func scanDevice(sc scanner) (Device, error) {
	var d Device
	var first, last, come int64
	err := sc.Scan(&d.ID, &d.DeviceID, &d.Name, &d.OSName, &d.OSVersion, &d.Arch, &d.IPAddr, &d.IPSource,
		&d.MemoryMB, &d.CPUs, &d.Tag, &d.UserAgent, &d.Checksum, &d.Fidelity, &d.Quality, &first, &last, &come, &d.Client)
	d.FirstSeen = unix(first)
	d.LastInventory = unix(last)
	d.LastContact = unix(come)
	return d, err
}

func unix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// DeviceCounts implements Store.
func (s *DB) DeviceCounts(ctx context.Context, liveSince time.Time) (total, live int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN lastcome >= ? THEN 1 ELSE 0 END), 0) FROM devices`,
		liveSince.Unix()).Scan(&total, &live)
	return total, live, err
}

// Devices implements Store.
func (s *DB) Devices(ctx context.Context) ([]Device, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+deviceColumns+` FROM devices d ORDER BY d.lastdate DESC, d.id`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	out := []Device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Device implements Store.
func (s *DB) Device(ctx context.Context, ref string) (*DeviceDetail, error) {
	q := `SELECT ` + deviceColumns + ` FROM devices d WHERE d.deviceid = ?`
	var arg any = ref
	if n, err := strconv.ParseInt(ref, 10, 64); err == nil {
		q = `SELECT ` + deviceColumns + ` FROM devices d WHERE d.id = ?`
		arg = n
	}
	d, err := scanDevice(s.r.QueryRowContext(ctx, q, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("device %q: %w", ref, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("device %q: %w", ref, err)
	}
	inv := &inventories.Inventory{}
	rows, err := s.r.QueryContext(ctx, `SELECT section, data FROM sections WHERE device_id = ?`, d.ID)
	if err != nil {
		return nil, fmt.Errorf("device %q: %w", ref, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var data []byte
		if err := rows.Scan(&name, &data); err != nil {
			return nil, err
		}
		var target any
		switch name {
		case rowDownload:
			target = &inv.DownloadHistory
		case rowIPDisc:
			target = &inv.IPDiscover
		case rowExtra:
			target = &inv.Extra
		case rowOldID:
			target = &inv.OldDeviceID
		default:
			sec, ok := inventories.LookupSection(name)
			if !ok {
				continue
			}
			target = inv.Field(sec)
		}
		if err := json.Unmarshal(data, target); err != nil {
			return nil, fmt.Errorf("device %q: section %s: %w", ref, name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	arows, err := s.r.QueryContext(ctx, `SELECT keyname, keyvalue FROM accountinfo WHERE device_id = ? ORDER BY keyname`, d.ID)
	if err != nil {
		return nil, err
	}
	defer arows.Close()
	for arows.Next() {
		var a inventories.AccountInfo
		if err := arows.Scan(&a.KeyName, &a.KeyValue); err != nil {
			return nil, err
		}
		inv.AccountInfo = append(inv.AccountInfo, a)
	}
	return &DeviceDetail{Device: d, Inventory: inv}, arows.Err()
}
