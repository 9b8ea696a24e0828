package inventories

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"muster/inventories/ocsxml"
)

func mustRead(t testing.TB, name string) *Document {
	t.Helper()
	doc, err := ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestDecodeRealAgentInventory(t *testing.T) {
	for _, name := range []string{"inventory.xml", "inventory.zlib"} {
		t.Run(name, func(t *testing.T) {
			doc := mustRead(t, name)
			inv := doc.Inventory
			if doc.DeviceID != "vm-2026-11-21-10-27-21" {
				t.Errorf("DeviceID = %q", doc.DeviceID)
			}
			counts := map[string]int{
				"softwares": len(inv.Softwares), "local_groups": len(inv.LocalGroups),
				"local_users": len(inv.LocalUsers), "controllers": len(inv.Controllers),
				"networks": len(inv.Networks), "storages": len(inv.Storages),
				"cpus": len(inv.CPUs), "drives": len(inv.Drives), "repository": len(inv.Repositories),
			}
			// STORAGES is sent three times, once empty: empty means absent.
			want := map[string]int{"softwares": 843, "local_groups": 48, "local_users": 26,
				"controllers": 6, "networks": 4, "storages": 2, "cpus": 1, "drives": 1, "repository": 3}
			if !reflect.DeepEqual(counts, want) {
				t.Errorf("counts = %v, want %v", counts, want)
			}
			if inv.Hardware.Name != "vm" || inv.Hardware.OSName != "Debian GNU/Linux 12" {
				t.Errorf("hardware = %+v", inv.Hardware)
			}
			if c, ok := inv.Checksum(); !ok || c == 0 {
				t.Errorf("checksum = %d, %v", c, ok)
			}
			if inv.Len(mustSection(t, "BIOS")) != 0 {
				t.Errorf("empty BIOS decoded as present: %+v", inv.BIOS)
			}
			// Fields the model names go to struct fields, not Other.
			if inv.CPUs[0].Sockets == "" || inv.CPUs[0].Other != nil {
				t.Errorf("cpu = %+v", inv.CPUs[0])
			}
		})
	}
}

func mustSection(t *testing.T, name string) Section {
	s, ok := LookupSection(name)
	if !ok {
		t.Fatalf("no section %s", name)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	doc := mustRead(t, "inventory.xml")
	doc.Inventory.IPDiscover = []DiscoveredHost{{IP: "10.0.0.1", MAC: "00:11:22:33:44:55", Name: "gw"}}
	doc.Inventory.DownloadHistory = []string{"1700000001"}
	doc.Inventory.Extra = map[string][]Record{"WINUSERS": {{"NAME": "bob", "SID": "S-1"}}}
	doc.Inventory.Softwares[0].Other = Record{"CUSTOM": "x"}
	out := Marshal(doc.DeviceID, doc.Inventory)
	back, err := ParseDocument(ocsxml.Compress(out), MaxFileSize, ocsxml.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Inventory, doc.Inventory) {
		t.Fatalf("round trip changed the inventory")
	}
}

func TestDecodeTolerant(t *testing.T) {
	// Attributes and elements are interchangeable, order is free, repeated
	// fields are joined, "??" is absent.
	xml := `<REQUEST QUERY="INVENTORY"><CONTENT>
	<LOCAL_GROUPS NAME="adm"><MEMBER>a</MEMBER><MEMBER>b</MEMBER></LOCAL_GROUPS>
	<HARDWARE NAME="pc1"><OSNAME>Linux</OSNAME><SWAP>??</SWAP></HARDWARE>
	<HARDWARE><NAME>second</NAME></HARDWARE>
	<ACCOUNTINFO KEYNAME="TAG" KEYVALUE="NA"/>
	<OLD_DEVICEID>old-2020-01-01-00-00-00</OLD_DEVICEID>
	</CONTENT><DEVICEID>pc1-2024-01-02-03-04-05</DEVICEID></REQUEST>`
	doc, err := ParseDocument([]byte(xml), 1<<20, ocsxml.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	inv := doc.Inventory
	if inv.Hardware.Name != "pc1" || inv.Hardware.OSName != "Linux" || inv.Hardware.Swap != "" {
		t.Errorf("hardware = %+v", inv.Hardware)
	}
	if len(inv.LocalGroups) != 1 || inv.LocalGroups[0].Member != "a,b" {
		t.Errorf("groups = %+v", inv.LocalGroups)
	}
	if inv.Tag() != "NA" || inv.OldDeviceID != "old-2020-01-01-00-00-00" {
		t.Errorf("tag %q old %q", inv.Tag(), inv.OldDeviceID)
	}
}

func TestParseDocumentErrors(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"bad deviceid", `<REQUEST><QUERY>INVENTORY</QUERY><DEVICEID>foo</DEVICEID><CONTENT/></REQUEST>`, "DEVICEID"},
		{"wrong query", `<REQUEST><QUERY>PROLOG</QUERY><DEVICEID>a-2024-01-02-03-04-05</DEVICEID></REQUEST>`, "QUERY"},
		{"no content", `<REQUEST><QUERY>INVENTORY</QUERY><DEVICEID>a-2024-01-02-03-04-05</DEVICEID></REQUEST>`, "CONTENT"},
		{"wrong root", `<FOO/>`, "REQUEST"},
		{"not xml", "hello", "neither"},
		{"broken xml", "<REQUEST><QUERY>", "parse xml"},
		{"deep", strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100), "too deeply"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseDocument([]byte(c.body), 1<<20, ocsxml.DefaultLimits)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestReadFileNamesFile(t *testing.T) {
	p := t.TempDir() + "/bad.ocs"
	if err := os.WriteFile(p, []byte("<REQUEST>"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(p)
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want it to name %s", err, p)
	}
}

func FuzzParseDocument(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input, which takes minutes
	// on a 15 KB inventory.
	f.Add([]byte(`<REQUEST><CONTENT><HARDWARE><NAME>vm</NAME><CHECKSUM>1</CHECKSUM></HARDWARE>` +
		`<NETWORKS><MACADDR>02:00:00:00:00:01</MACADDR></NETWORKS><ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>NA</KEYVALUE></ACCOUNTINFO>` +
		`<DOWNLOAD><HISTORY><PACKAGE ID="1"/></HISTORY></DOWNLOAD><IPDISCOVER><H><I>10.0.0.1</I><M>aa</M><N>-</N></H></IPDISCOVER>` +
		`</CONTENT><DEVICEID>vm-2026-11-21-10-26-56</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>`))
	f.Add([]byte(`<REQUEST QUERY="INVENTORY" DEVICEID="a-2024-01-02-03-04-05"><CONTENT><X A="1"/></CONTENT></REQUEST>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		doc, err := ParseDocument(body, 1<<20, ocsxml.Limits{MaxDepth: 16, MaxElements: 10000})
		if err != nil {
			return
		}
		// Whatever decodes must survive our own encoder unchanged.
		back, err := ParseDocument(Marshal(doc.DeviceID, doc.Inventory), 1<<22, ocsxml.DefaultLimits)
		if err != nil {
			t.Fatalf("re-parse of our own output: %v", err)
		}
		if !reflect.DeepEqual(back.Inventory, doc.Inventory) {
			t.Fatalf("round trip changed the inventory")
		}
	})
}
