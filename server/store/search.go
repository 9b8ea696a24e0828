package store

import (
	"context"
	"fmt"
	"strings"
)

// SectionMatch is a device whose inventory section holds a searched text:
// its id and the section's JSON, for the caller to check field by field.
type SectionMatch struct {
	DeviceID int64
	Data     []byte
}

// maxSectionMatches bounds what one search reads back.
const maxSectionMatches = 100_000

// SectionContains returns the devices whose section (SOFTWARES, NETWORKS…)
// contains needle anywhere in its JSON, case-insensitively: candidates
// only, since the text may sit in another field than the one searched.
func (s *DB) SectionContains(ctx context.Context, section, needle string) ([]SectionMatch, error) {
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(needle)) + "%"
	rows, err := s.r.QueryContext(ctx, `SELECT device_id, data FROM sections WHERE section = ? AND lower(data) LIKE ? ESCAPE '\' LIMIT ?`,
		section, like, maxSectionMatches)
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", section, err)
	}
	defer rows.Close()
	out := []SectionMatch{}
	for rows.Next() {
		var m SectionMatch
		if err := rows.Scan(&m.DeviceID, &m.Data); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
