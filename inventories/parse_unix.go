package inventories

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// The parsers of the Unix collectors: pure functions over the text of
// /proc, /etc and dpkg files, so they are tested and fuzzed on any system.

// ParseOSRelease reads /etc/os-release (KEY=value, values optionally
// quoted).
func ParseOSRelease(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}

// ParseMeminfo reads /proc/meminfo into kB values by key.
func ParseMeminfo(text string) map[string]int64 {
	out := map[string]int64{}
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			out[strings.TrimSpace(k)] = n
		}
	}
	return out
}

// ParseCPUInfo reads /proc/cpuinfo into one CPU per physical package, as
// the OCS Unix agent reports them.
func ParseCPUInfo(text string) []CPU {
	type pkg struct {
		cpu     CPU
		logical int
		cores   map[string]bool
	}
	pkgs := map[string]*pkg{}
	var order []string
	cur := map[string]string{}
	flush := func() {
		if len(cur) == 0 {
			return
		}
		id := cur["physical id"]
		p := pkgs[id]
		if p == nil {
			p = &pkg{cores: map[string]bool{}}
			p.cpu.Manufacturer = vendor(cur["vendor_id"])
			p.cpu.Type = cur["model name"]
			if mhz, err := strconv.ParseFloat(cur["cpu MHz"], 64); err == nil {
				p.cpu.Speed = strconv.Itoa(int(mhz + 0.5))
				p.cpu.CurrentSpeed = p.cpu.Speed
			}
			if c := cur["cpu cores"]; c != "" {
				p.cpu.Cores = c
			}
			p.cpu.L2CacheSize = cur["cache size"]
			if strings.Contains(" "+cur["flags"]+" ", " lm ") {
				p.cpu.DataWidth, p.cpu.CPUArch = "64", "x86_64"
			}
			pkgs[id] = p
			order = append(order, id)
		}
		p.logical++
		p.cores[cur["core id"]] = true
		cur = map[string]string{}
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	flush()
	var out []CPU
	for _, id := range order {
		p := pkgs[id]
		p.cpu.LogicalCPUs = strconv.Itoa(p.logical)
		if p.cpu.Cores == "" {
			p.cpu.Cores = strconv.Itoa(len(p.cores))
		}
		p.cpu.Threads = p.cpu.LogicalCPUs
		out = append(out, p.cpu)
	}
	return out
}

func vendor(id string) string {
	switch id {
	case "GenuineIntel":
		return "Intel"
	case "AuthenticAMD":
		return "AMD"
	}
	return id
}

// Mount is one line of /proc/mounts.
type Mount struct {
	Device, Point, FSType string
}

// ParseMounts reads /proc/mounts, unescaping \040-style octal escapes.
func ParseMounts(text string) []Mount {
	var out []Mount
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		out = append(out, Mount{Device: unoctal(f[0]), Point: unoctal(f[1]), FSType: f[2]})
	}
	return out
}

func unoctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Route is a route of /proc/net/route.
type Route struct {
	Iface   string
	Dest    net.IP
	Gateway net.IP
	Mask    net.IPMask
}

// ParseRoutes reads /proc/net/route (addresses in little-endian hex).
func ParseRoutes(text string) []Route {
	var out []Route
	lines := strings.Split(text, "\n")
	for _, line := range lines[min(1, len(lines)):] {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		d, g, m := hexIP(f[1]), hexIP(f[2]), hexIP(f[7])
		if d == nil || g == nil || m == nil {
			continue
		}
		out = append(out, Route{Iface: f[0], Dest: d, Gateway: g, Mask: net.IPMask(m)})
	}
	return out
}

func hexIP(s string) net.IP {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 4 {
		return nil
	}
	return net.IPv4(b[3], b[2], b[1], b[0]).To4()
}

// DefaultGateways returns the default gateway of each interface.
func DefaultGateways(routes []Route) map[string]string {
	out := map[string]string{}
	for _, r := range routes {
		if r.Dest.Equal(net.IPv4zero) && !r.Gateway.Equal(net.IPv4zero) {
			if _, ok := out[r.Iface]; !ok {
				out[r.Iface] = r.Gateway.String()
			}
		}
	}
	return out
}

// ParseDpkgStatus reads dpkg's status file into the installed packages,
// as the OCS Unix agent reports them (FROM=deb).
func ParseDpkgStatus(text string) []Software {
	var out []Software
	for _, para := range strings.Split(text, "\n\n") {
		fields := map[string]string{}
		var last string
		for _, line := range strings.Split(para, "\n") {
			if line == "" {
				continue
			}
			if line[0] == ' ' || line[0] == '\t' {
				if last == "Description" && !strings.Contains(fields[last], "\n") {
					continue // keep the one-line summary only
				}
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = k
			fields[k] = strings.TrimSpace(v)
		}
		if fields["Package"] == "" || !strings.HasSuffix(fields["Status"], " installed") || strings.HasPrefix(fields["Status"], "deinstall") {
			continue
		}
		s := Software{Name: fields["Package"], Version: fields["Version"], Architecture: fields["Architecture"],
			Comments: fields["Description"], Publisher: fields["Maintainer"], From: "deb"}
		if kb, err := strconv.ParseInt(fields["Installed-Size"], 10, 64); err == nil {
			s.FileSize = strconv.FormatInt(kb*1024, 10)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name < out[j].Name || out[i].Name == out[j].Name && out[i].Architecture < out[j].Architecture
	})
	return out
}

// ParsePasswd reads /etc/passwd into local users.
func ParsePasswd(text string) []LocalUser {
	var out []LocalUser
	for _, line := range strings.Split(text, "\n") {
		f := strings.Split(line, ":")
		if len(f) < 7 || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, LocalUser{Login: f[0], IDUser: f[2], GID: f[3], Name: strings.SplitN(f[4], ",", 2)[0], Home: f[5], Shell: f[6]})
	}
	return out
}

// ParseGroup reads /etc/group into local groups.
func ParseGroup(text string) []LocalGroup {
	var out []LocalGroup
	for _, line := range strings.Split(text, "\n") {
		f := strings.Split(line, ":")
		if len(f) < 4 || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, LocalGroup{Name: f[0], IDGroup: f[2], Member: f[3]})
	}
	return out
}

// MaskString renders a mask as an address: 255.255.255.0, ffff:ffff::.
func MaskString(m net.IPMask) string { return net.IP(m).String() }

// SubnetOf returns the network address of ip/mask.
func SubnetOf(ip net.IP, m net.IPMask) string {
	if v4 := ip.To4(); v4 != nil && len(m) == 4 {
		return v4.Mask(m).String()
	}
	return ip.Mask(m).String()
}

// humanMB renders bytes as MB, as OCS sections count.
func humanMB(bytes uint64) string { return fmt.Sprint(bytes / (1 << 20)) }

func parseIPv4(s string) net.IP {
	ip := net.ParseIP(s)
	if ip == nil {
		return nil
	}
	return ip.To4()
}
