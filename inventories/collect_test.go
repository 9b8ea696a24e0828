package inventories

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParsers(t *testing.T) {
	rel := ParseOSRelease("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME='Debian GNU/Linux'\n# c\nVERSION_ID=12\nbad line\n")
	if rel["PRETTY_NAME"] != "Debian GNU/Linux 12 (bookworm)" || rel["NAME"] != "Debian GNU/Linux" || rel["VERSION_ID"] != "12" {
		t.Errorf("os-release %v", rel)
	}
	mem := ParseMeminfo("MemTotal:       24683628 kB\nSwapTotal: 0 kB\nHugePages_Total: 0\n")
	if mem["MemTotal"] != 24683628 || mem["SwapTotal"] != 0 {
		t.Errorf("meminfo %v", mem)
	}
	cpuinfo := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\ncpu MHz\t\t: 2599.998\nphysical id\t: 0\ncore id\t: 0\ncpu cores\t: 2\nflags\t: fpu lm sse\n\n" +
		"processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\ncpu MHz\t\t: 2599.998\nphysical id\t: 0\ncore id\t: 1\ncpu cores\t: 2\n\n" +
		"processor\t: 2\nvendor_id\t: AuthenticAMD\nmodel name\t: EPYC\nphysical id\t: 1\ncore id\t: 0\n"
	cpus := ParseCPUInfo(cpuinfo)
	want := []CPU{
		{Manufacturer: "Intel", Type: "Xeon", Speed: "2600", CurrentSpeed: "2600", Cores: "2", LogicalCPUs: "2", Threads: "2", DataWidth: "64", CPUArch: "x86_64"},
		{Manufacturer: "AMD", Type: "EPYC", Cores: "1", LogicalCPUs: "1", Threads: "1"},
	}
	if !reflect.DeepEqual(cpus, want) {
		t.Errorf("cpuinfo\n got %+v\nwant %+v", cpus, want)
	}
	mounts := ParseMounts("/dev/vda / ext4 rw 0 0\n/dev/sdb1 /mnt/my\\040disk vfat rw 0 0\nshort\n")
	if len(mounts) != 2 || mounts[1].Point != "/mnt/my disk" || mounts[0].FSType != "ext4" {
		t.Errorf("mounts %+v", mounts)
	}
	routes := ParseRoutes("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n" +
		"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\neth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n")
	if gw := DefaultGateways(routes); gw["eth0"] != "192.0.2.1" || len(gw) != 1 {
		t.Errorf("gateways %v", gw)
	}
	status := "Package: adduser\nStatus: install ok installed\nInstalled-Size: 686\nMaintainer: Debian\nArchitecture: all\nVersion: 3.134\nDescription: add and remove users\n more text\n\n" +
		"Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n" +
		"Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2\n"
	sw := ParseDpkgStatus(status)
	if len(sw) != 2 || sw[0].Name != "adduser" || sw[0].FileSize != "702464" || sw[0].Comments != "add and remove users" || sw[1].Name != "bash" || sw[1].From != "deb" {
		t.Errorf("dpkg %+v", sw)
	}
	users := ParsePasswd("root:x:0:0:root:/root:/bin/bash\nbad\nbob:x:1000:1000:Bob B,,,:/home/bob:/bin/sh\n")
	if len(users) != 2 || users[1].Name != "Bob B" || users[1].Home != "/home/bob" {
		t.Errorf("passwd %+v", users)
	}
	groups := ParseGroup("sudo:x:27:bob,alice\n")
	if len(groups) != 1 || groups[0].Member != "bob,alice" {
		t.Errorf("group %+v", groups)
	}
}

func FuzzUnixParsers(f *testing.F) {
	f.Add("processor\t: 0\nphysical id: 0\n\nPackage: a\nStatus: install ok installed\n")
	f.Add("eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n/dev/a /b\\04 ext4")
	f.Fuzz(func(t *testing.T, s string) {
		ParseOSRelease(s)
		ParseMeminfo(s)
		for _, c := range ParseCPUInfo(s) {
			if c.LogicalCPUs == "" {
				t.Fatal("a CPU without a logical count")
			}
		}
		ParseMounts(s)
		DefaultGateways(ParseRoutes(s))
		for _, sw := range ParseDpkgStatus(s) {
			if sw.Name == "" {
				t.Fatal("a package without a name")
			}
		}
		ParsePasswd(s)
		ParseGroup(s)
		for _, src := range append(ParseAptList(s), ParseDeb822Sources(s)...) {
			if src.URI == "" || src.Suite == "" {
				t.Fatalf("a source without a URI or suite: %+v", src)
			}
		}
	})
}

func TestCollectorsAreIsolated(t *testing.T) {
	Register("test-fails", CollectorFunc(func(ctx context.Context, inv *Inventory) error {
		inv.Hardware.Name = "half-written"
		return errors.New("boom")
	}))
	Register("test-panics", CollectorFunc(func(ctx context.Context, inv *Inventory) error { panic("bad") }))
	Register("test-works", CollectorFunc(func(ctx context.Context, inv *Inventory) error {
		inv.BIOS.SystemModel = "model"
		return nil
	}))
	inv, reports := CollectAll(context.Background(), nil, "test-fails", "test-panics", "test-works", "test-missing")
	if inv.BIOS.SystemModel != "model" || inv.Hardware.Name != "" {
		t.Errorf("inventory %+v %+v", inv.Hardware, inv.BIOS)
	}
	errs := map[string]string{}
	for _, r := range reports {
		if r.Err != nil {
			errs[r.Name] = r.Err.Error()
		}
	}
	if !strings.Contains(errs["test-fails"], "boom") || !strings.Contains(errs["test-panics"], "panic") ||
		errs["test-works"] != "" || !strings.Contains(errs["test-missing"], "no collector") {
		t.Errorf("reports %v", errs)
	}
}
