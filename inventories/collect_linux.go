//go:build linux

package inventories

import (
	"os"
	"path/filepath"
	"strings"
)

// root prefixes every path the Linux collectors read, so tests can point
// them at a recorded tree.
var root = "/"

func readSys(path string) string {
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
