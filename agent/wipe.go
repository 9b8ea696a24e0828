package agent

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Wipe removes the work directory and everything in it. Where
// os.RemoveAll's way of deleting is refused (Wine lacks the POSIX-style
// delete Go uses on Windows), it removes the files one by one, deepest
// first.
func Wipe(dir string) error {
	err := os.RemoveAll(dir)
	if err == nil {
		return nil
	}
	var paths []string
	if werr := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return nil
	}); werr != nil {
		return err
	}
	sort.Sort(sort.Reverse(sort.StringSlice(paths))) // children before parents
	for _, p := range paths {
		if rerr := os.Remove(p); rerr != nil && !os.IsNotExist(rerr) {
			return rerr
		}
	}
	return nil
}
