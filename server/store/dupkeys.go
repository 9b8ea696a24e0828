package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// IdentityKeys are what tells machines apart, by device id: the system
// serial (BIOS SSN) and the MACs of its interfaces, as inventoried.
type IdentityKeys struct {
	Serial string
	MACs   []string
}

// IdentityKeys reads the serial and MACs of the devices with these ids
// (nil: every device) in one query of the BIOS and NETWORKS sections, for
// duplicate detection.
func (s *DB) IdentityKeys(ctx context.Context, ids []int64) (map[int64]IdentityKeys, error) {
	q := `SELECT device_id, section, data FROM sections WHERE section IN ('BIOS', 'NETWORKS')`
	var args []any
	if ids != nil {
		if len(ids) == 0 {
			return map[int64]IdentityKeys{}, nil
		}
		q += ` AND device_id IN (?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("identity keys: %w", err)
	}
	defer rows.Close()
	out := map[int64]IdentityKeys{}
	for rows.Next() {
		var id int64
		var section string
		var data []byte
		if err := rows.Scan(&id, &section, &data); err != nil {
			return nil, err
		}
		k := out[id]
		switch section {
		case "BIOS":
			var b struct {
				SSN string `json:"ssn"`
			}
			if json.Unmarshal(data, &b) == nil {
				k.Serial = b.SSN
			}
		case "NETWORKS":
			var ns []struct {
				MAC string `json:"macaddr"`
			}
			if json.Unmarshal(data, &ns) == nil {
				for _, n := range ns {
					if n.MAC != "" {
						k.MACs = append(k.MACs, n.MAC)
					}
				}
			}
		}
		out[id] = k
	}
	return out, rows.Err()
}
