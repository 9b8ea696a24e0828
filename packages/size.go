package packages

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// ParseSize reads a fragment size: 1048576, 512KiB, 4MiB, 1GiB (also K, M, G, KB, MB).
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(strings.ToUpper(s), u.suffix) {
			s, mult = s[:len(s)-len(u.suffix)], u.m
			break
		}
	}
	var n int64
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != s {
		return 0, fmt.Errorf("want a size such as 1MiB or 524288")
	}
	if n*mult < 1024 {
		return 0, fmt.Errorf("fragments under 1 KiB make too many requests")
	}
	return n * mult, nil
}

// SourceSize is the bytes of a file, or of the regular files of a
// directory (0 for no source).
func SourceSize(src string) int64 {
	var total int64
	if src == "" {
		return 0
	}
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return total
}
