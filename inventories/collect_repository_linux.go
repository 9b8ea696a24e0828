//go:build linux

package inventories

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func init() { Register("repository", CollectorFunc(collectRepositories)) }

// collectRepositories lists the HTTP(S) apt sources as REPOSITORY entries,
// one per URI, suite and component: the entries the OCS Unix agent takes
// from `apt-cache policy`, read here from the sources files themselves
// (NAME is the component, BASEURL the URI). Hosts without apt have none.
func collectRepositories(ctx context.Context, inv *Inventory) error {
	dir := filepath.Join(root, "etc/apt")
	var all []AptSource
	if b, err := os.ReadFile(filepath.Join(dir, "sources.list")); err == nil {
		all = append(all, ParseAptList(string(b))...)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "sources.list.d"))
	for _, e := range entries {
		name := e.Name()
		b, err := os.ReadFile(filepath.Join(dir, "sources.list.d", name))
		if err != nil {
			continue
		}
		switch filepath.Ext(name) {
		case ".list":
			all = append(all, ParseAptList(string(b))...)
		case ".sources":
			all = append(all, ParseDeb822Sources(string(b))...)
		}
	}
	seen := map[AptSource]bool{}
	for _, s := range all {
		if !strings.HasPrefix(s.URI, "http://") && !strings.HasPrefix(s.URI, "https://") || seen[s] {
			continue
		}
		seen[s] = true
		name := s.Component
		if name == "" {
			name = strings.TrimSuffix(s.Suite, "/")
		}
		inv.Repositories = append(inv.Repositories, Repository{BaseURL: s.URI, Name: name})
	}
	sort.SliceStable(inv.Repositories, func(i, j int) bool { return inv.Repositories[i].BaseURL < inv.Repositories[j].BaseURL })
	return nil
}
