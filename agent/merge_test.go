package agent

import (
	"strings"
	"testing"
)

func TestMergeSettings(t *testing.T) {
	saved := &Settings{Server: "https://saved/ocsinventory", SSL: false, Tag: "saved-tag"}
	for _, tc := range []struct {
		name   string
		saved  *Settings
		layers []map[string]string
		check  func(s Settings) bool
		err    string
	}{
		{name: "defaults: SSL on", check: func(s Settings) bool { return s.SSL && s.Server == "" }},
		{name: "saved settings stand", saved: saved, check: func(s Settings) bool {
			return s.Server == "https://saved/ocsinventory" && !s.SSL && s.Tag == "saved-tag"
		}},
		{name: "the OCS file over saved, flags over both", saved: saved,
			layers: []map[string]string{{"server": "http://ocs/ocsinventory", "tag": "ocs-tag", "ssl": "1"}, {"tag": "flag-tag", "server": ""}},
			check:  func(s Settings) bool { return s.Server == "http://ocs/ocsinventory" && s.Tag == "flag-tag" && s.SSL }},
		{name: "ssl=false from a flag", layers: []map[string]string{{"ssl": "false"}}, check: func(s Settings) bool { return !s.SSL }},
		{name: "a proxy's parts from two layers", layers: []map[string]string{{"proxy": "proxy.lan", "proxy-port": "3128"}, {"proxy-type": "1"}},
			check: func(s Settings) bool { return strings.Contains(s.Proxy, "proxy.lan:3128") }},
		{name: "package hosts and key", layers: []map[string]string{{"package-hosts": "a.lan,b.lan", "package-key": "KEY"}},
			check: func(s Settings) bool {
				return strings.Join(s.PackageHosts, " ") == "a.lan b.lan" && s.PackageKey == "KEY"
			}},
		{name: "notag", layers: []map[string]string{{"notag": "1"}}, check: func(s Settings) bool { return s.NoTag }},
		{name: "a proxy type that is no number", layers: []map[string]string{{"proxy": "p", "proxy-type": "http"}}, err: "proxy settings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := MergeSettings(tc.saved, tc.layers...)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !tc.check(s) {
				t.Errorf("settings %+v, %v", s, err)
			}
		})
	}
}
