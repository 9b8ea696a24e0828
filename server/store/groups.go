package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"muster/server/query"
)

// Group is a set of devices to target: static (Members listed) or dynamic
// (Query, in muster's device language, evaluated when asked).
type Group struct {
	Name    string    `json:"name"`
	Query   string    `json:"query,omitempty"`
	Members []string  `json:"members,omitempty"`
	Created time.Time `json:"created"`
	Who     string    `json:"who,omitempty"`
}

// GroupMember is one device of a group.
type GroupMember struct {
	DeviceID string `json:"deviceid"`
	Name     string `json:"name"`
	ID       int64  `json:"id"`
}

// PutGroup creates or replaces a group; a dynamic group's query must
// parse (the error says where it does not).
func (s *DB) PutGroup(ctx context.Context, g Group, now time.Time) error {
	if g.Query != "" {
		if _, err := query.Parse(g.Query); err != nil {
			return fmt.Errorf("group %s: query: %w", g.Name, err)
		}
		if len(g.Members) > 0 {
			return fmt.Errorf("group %s: a group has a query or members, not both", g.Name)
		}
	}
	return s.inTx(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO device_groups(name, query, created, who) VALUES (?, ?, ?, ?)
			ON CONFLICT(name) DO UPDATE SET query = excluded.query, who = excluded.who`, g.Name, g.Query, now.Unix(), g.Who); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM device_group_members WHERE group_name = ?`, g.Name); err != nil {
			return err
		}
		for _, m := range g.Members {
			if _, err := tx.ExecContext(ctx, `INSERT INTO device_group_members(group_name, deviceid)
				SELECT ?, deviceid FROM devices WHERE deviceid = ? OR CAST(id AS TEXT) = ? ON CONFLICT DO NOTHING`, g.Name, m, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// GroupByName returns one group (ErrNotFound when there is none).
func (s *DB) GroupByName(ctx context.Context, name string) (Group, error) {
	var g Group
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT name, query, created, who FROM device_groups WHERE name = ?`, name).Scan(&g.Name, &g.Query, &created, &g.Who)
	if errors.Is(err, sql.ErrNoRows) {
		return g, fmt.Errorf("group %q: %w", name, ErrNotFound)
	}
	g.Created = unix(created)
	return g, err
}

// Groups lists the groups by name.
func (s *DB) Groups(ctx context.Context) ([]Group, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, query, created, who FROM device_groups ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Group{}
	for rows.Next() {
		var g Group
		var created int64
		if err := rows.Scan(&g.Name, &g.Query, &created, &g.Who); err != nil {
			return nil, err
		}
		g.Created = unix(created)
		out = append(out, g)
	}
	return out, rows.Err()
}

// DeleteGroup removes a group, and the package rules that target it.
func (s *DB) DeleteGroup(ctx context.Context, name string) error {
	return s.inTx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM device_groups WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("group %q: %w", name, ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM package_rules WHERE kind = 'group' AND value = ?`, name)
		return err
	})
}

// groupCondition is the SQL condition over devices d that a group's
// members meet, with its arguments.
func groupCondition(g Group, now time.Time) (string, []any, error) {
	if g.Query == "" {
		return `d.deviceid IN (SELECT m.deviceid FROM device_group_members m WHERE m.group_name = ?)`, []any{g.Name}, nil
	}
	n, err := query.Parse(g.Query)
	if err != nil {
		return "", nil, fmt.Errorf("group %s: query: %w", g.Name, err)
	}
	c := query.Compile(n, now)
	return c.Where, c.Args, nil
}

// GroupMembers evaluates a group in SQL: its devices by name.
func (s *DB) GroupMembers(ctx context.Context, name string, now time.Time) ([]GroupMember, error) {
	g, err := s.GroupByName(ctx, name)
	if err != nil {
		return nil, err
	}
	cond, args, err := groupCondition(g, now)
	if err != nil {
		return nil, err
	}
	return s.devicesWhere(ctx, "group "+name, cond, args)
}

// Find evaluates a query in muster's device language in SQL, as a dynamic
// group would be: the devices it matches, by name.
func (s *DB) Find(ctx context.Context, q string, now time.Time) ([]GroupMember, error) {
	cond, args, err := groupCondition(Group{Name: "query", Query: q}, now)
	if err != nil {
		return nil, err
	}
	return s.devicesWhere(ctx, "query", cond, args)
}

func (s *DB) devicesWhere(ctx context.Context, what, cond string, args []any) ([]GroupMember, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT d.id, d.deviceid, d.name FROM devices d WHERE `+cond+` ORDER BY d.name, d.deviceid`, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []GroupMember{}
	for rows.Next() {
		var m GroupMember
		if err := rows.Scan(&m.ID, &m.DeviceID, &m.Name); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// inGroup reports whether a device is a member of a group, in tx.
func inGroup(ctx context.Context, tx *txn, group, deviceID string, now time.Time) (bool, error) {
	var g Group
	err := tx.QueryRowContext(ctx, `SELECT name, query FROM device_groups WHERE name = ?`, group).Scan(&g.Name, &g.Query)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	cond, args, err := groupCondition(g, now)
	if err != nil {
		return false, err
	}
	var in bool
	err = tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM devices d WHERE d.deviceid = ? AND `+cond+`)`, append([]any{deviceID}, args...)...).Scan(&in)
	return in, err
}
