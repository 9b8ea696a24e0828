package agent

import (
	"fmt"
	"strconv"
	"strings"
)

// MergeSettings is the agent's settings from their sources, later ones
// winning: saved (those install-service kept; nil gives the defaults, SSL
// on), then each layer of keys by muster's names (as ReadOCSConfig returns
// them: an OCS config file, then the command line and environment). A key
// with an empty value is not given. OCS gives a proxy as type, host and
// port, possibly from different layers; it becomes one URL at the end.
func MergeSettings(saved *Settings, layers ...map[string]string) (Settings, error) {
	s := Settings{SSL: true}
	if saved != nil {
		s = *saved
	}
	var px struct {
		typ, port int
		host      string
		set       bool
	}
	for _, kv := range layers {
		for k, val := range kv {
			if val == "" {
				continue
			}
			switch k {
			case "server":
				s.Server = val
			case "ssl":
				s.SSL = val == "1" || strings.EqualFold(val, "true")
			case "ca":
				s.CA = val
			case "user":
				s.User = val
			case "pwd":
				s.Password = val
			case "tag":
				s.Tag = val
			case "notag":
				s.NoTag = val == "1" || strings.EqualFold(val, "true")
			case "proxy":
				px.host = val
			case "proxy-type":
				px.typ, px.set = atoiOr(val, -1), true
			case "proxy-port":
				px.port = atoiOr(val, -1)
			case "proxy-user":
				s.ProxyUser = val
			case "proxy-pwd":
				s.ProxyPassword = val
			case "package-key":
				s.PackageKey = val
			case "package-hosts":
				s.PackageHosts = strings.Split(val, ",")
			}
		}
	}
	if px.set {
		u, err := ProxyURL(px.typ, px.host, px.port)
		if err != nil {
			return s, fmt.Errorf("proxy settings: %w", err)
		}
		s.Proxy = u
	}
	return s, nil
}

// atoiOr is s as a number, or def when it is not one.
func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def
	}
	return n
}
