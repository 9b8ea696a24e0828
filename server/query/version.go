package query

import "strings"

// VersionKey makes a version comparable as a string: runs of digits are
// zero-padded to ten places, other runs lower-cased, separated by dots, so
// that 9.1 < 10.0 and 23 < 23.01. Epochs and distribution suffixes are
// compared as they come.
func VersionKey(v string) string {
	var b strings.Builder
	v = strings.ToLower(strings.TrimSpace(v))
	for i := 0; i < len(v); {
		j := i
		digit := v[i] >= '0' && v[i] <= '9'
		for j < len(v) && (v[j] >= '0' && v[j] <= '9') == digit {
			j++
		}
		run := v[i:j]
		switch {
		case digit:
			run = strings.TrimLeft(run, "0")
			if len(run) > 10 {
				run = run[len(run)-10:]
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(strings.Repeat("0", 10-len(run)) + run)
		default:
			run = strings.Trim(run, ".-_:+~ ")
			if run != "" {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(run)
			}
		}
		i = j
	}
	return b.String()
}
