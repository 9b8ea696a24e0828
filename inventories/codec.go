package inventories

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"muster/inventories/ocsxml"
)

// Section describes one section of the model: its XML name, its CHECKSUM
// bit (0 for sections that are always rewritten) and whether it repeats.
type Section struct {
	Name  string
	Bit   uint32
	Multi bool
	index int
}

// Names of the sections that are not plain records.
const (
	SectionAccountInfo = "ACCOUNTINFO"
	SectionDownload    = "DOWNLOAD"
	SectionIPDiscover  = "IPDISCOVER"
	SectionOldDeviceID = "OLD_DEVICEID"
)

// AllChecksumBits has the CHECKSUM bit of every section of the model set:
// "everything changed". (The Unix agent's own first-run value, 1572863,
// lacks the SIM bit, which it never collects.)
var AllChecksumBits uint32

type fieldTable struct {
	byName map[string]int // XML name → struct field index
	names  []string       // XML names, sorted, for encoding
	other  int            // index of the Other map, or -1
}

var (
	sections     []Section
	sectionByTag = map[string]Section{}
	tables       = map[reflect.Type]*fieldTable{}
)

func init() {
	t := reflect.TypeOf(Inventory{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("ocs")
		if tag == "" {
			continue
		}
		parts := strings.Split(tag, ",")
		s := Section{Name: parts[0], index: i, Multi: f.Type.Kind() == reflect.Slice}
		for _, p := range parts[1:] {
			if v, ok := strings.CutPrefix(p, "bit="); ok {
				b, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					panic("inventories: bad bit in tag " + tag)
				}
				s.Bit = uint32(b)
			}
		}
		sections = append(sections, s)
		AllChecksumBits |= s.Bit
		sectionByTag[s.Name] = s
		et := f.Type
		if s.Multi {
			et = et.Elem()
		}
		tables[et] = buildTable(et)
	}
}

func buildTable(t reflect.Type) *fieldTable {
	ft := &fieldTable{byName: map[string]int{}, other: -1}
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("ocs")
		switch {
		case tag == ",other":
			ft.other = i
		case tag != "":
			ft.byName[tag] = i
			ft.names = append(ft.names, tag)
		}
	}
	sort.Strings(ft.names)
	return ft
}

// Sections lists the record sections of the model in CHECKSUM bit order.
// ACCOUNTINFO is among them; DOWNLOAD, IPDISCOVER and OLD_DEVICEID, which
// have their own shapes, are not.
func Sections() []Section { return append([]Section(nil), sections...) }

// LookupSection returns the section called name.
func LookupSection(name string) (Section, bool) {
	s, ok := sectionByTag[name]
	return s, ok
}

// Field returns a pointer to the Go value holding section s of inv (a
// pointer to a struct, or to a slice of structs), for encoders such as a
// store's JSON columns.
func (inv *Inventory) Field(s Section) any {
	return reflect.ValueOf(inv).Elem().Field(s.index).Addr().Interface()
}

// Len returns how many elements of section s inv holds (0 or 1 for
// HARDWARE and BIOS, which count as present when any field is set).
func (inv *Inventory) Len(s Section) int {
	v := reflect.ValueOf(inv).Elem().Field(s.index)
	if s.Multi {
		return v.Len()
	}
	if v.IsZero() {
		return 0
	}
	return 1
}

// Decode reads the CONTENT element of an INVENTORY request into an
// Inventory. Elements that carry no data are treated as absent, as the OCS
// server does; unknown sections land in Extra.
func Decode(content *ocsxml.Node) (*Inventory, error) {
	inv := &Inventory{}
	if content == nil {
		return nil, fmt.Errorf("inventory has no CONTENT")
	}
	iv := reflect.ValueOf(inv).Elem()
	for _, n := range content.Kids {
		switch n.Name {
		case SectionDownload:
			for _, h := range n.All("HISTORY") {
				for _, p := range h.All("PACKAGE") {
					if id := p.Get("ID"); id != "" {
						inv.DownloadHistory = append(inv.DownloadHistory, id)
					}
				}
			}
			continue
		case SectionIPDiscover:
			for _, h := range n.All("H") {
				host := DiscoveredHost{IP: h.Get("I"), MAC: h.Get("M"), Name: h.Get("N")}
				if host.Name == "-" {
					host.Name = ""
				}
				if host.IP != "" || host.MAC != "" {
					inv.IPDiscover = append(inv.IPDiscover, host)
				}
			}
			continue
		case SectionOldDeviceID:
			inv.OldDeviceID = strings.TrimSpace(n.Text)
			continue
		case SectionAccountInfo:
			if k := n.Get("KEYNAME"); k != "" {
				inv.AccountInfo = append(inv.AccountInfo, AccountInfo{KeyName: k, KeyValue: strings.TrimSpace(n.Raw("KEYVALUE"))})
			}
			continue
		}
		if n.Empty() {
			continue
		}
		// A section element with no field (only text, as <NETWORKS>0</NETWORKS>)
		// records nothing: empty means absent, and our encoder writes it so.
		fields := n.Fields()
		if len(fields) == 0 {
			continue
		}
		s, ok := sectionByTag[n.Name]
		if !ok {
			if inv.Extra == nil {
				inv.Extra = map[string][]Record{}
			}
			inv.Extra[n.Name] = append(inv.Extra[n.Name], Record(fields))
			continue
		}
		f := iv.Field(s.index)
		if s.Multi {
			e := reflect.New(f.Type().Elem()).Elem()
			fill(e, fields)
			f.Set(reflect.Append(f, e))
		} else if f.IsZero() {
			fill(f, fields)
		}
	}
	return inv, nil
}

func fill(v reflect.Value, fields map[string]string) {
	ft := tables[v.Type()]
	for name, val := range fields {
		if i, ok := ft.byName[name]; ok {
			v.Field(i).SetString(val)
			continue
		}
		if ft.other < 0 {
			continue
		}
		o := v.Field(ft.other)
		if o.IsNil() {
			o.Set(reflect.ValueOf(Record{}))
		}
		o.SetMapIndex(reflect.ValueOf(name), reflect.ValueOf(val))
	}
}

// Encode renders inv as a CONTENT element, sections and fields sorted by
// name as the Unix agent writes them.
func Encode(inv *Inventory) *ocsxml.Node {
	content := &ocsxml.Node{Name: "CONTENT"}
	iv := reflect.ValueOf(inv).Elem()
	var kids []*ocsxml.Node
	for _, s := range sections {
		if s.Name == SectionAccountInfo {
			continue
		}
		f := iv.Field(s.index)
		if s.Multi {
			for i := 0; i < f.Len(); i++ {
				kids = append(kids, record(s.Name, f.Index(i)))
			}
		} else if !f.IsZero() {
			kids = append(kids, record(s.Name, f))
		}
	}
	for _, a := range inv.AccountInfo {
		kids = append(kids, &ocsxml.Node{Name: SectionAccountInfo, Kids: []*ocsxml.Node{
			ocsxml.Elem("KEYNAME", a.KeyName), ocsxml.Elem("KEYVALUE", a.KeyValue)}})
	}
	hist := &ocsxml.Node{Name: "HISTORY"}
	for _, id := range inv.DownloadHistory {
		hist.Kids = append(hist.Kids, &ocsxml.Node{Name: "PACKAGE", Attrs: []ocsxml.Attr{{Name: "ID", Value: id}}})
	}
	kids = append(kids, &ocsxml.Node{Name: SectionDownload, Kids: []*ocsxml.Node{hist}})
	if len(inv.IPDiscover) > 0 {
		ipd := &ocsxml.Node{Name: SectionIPDiscover}
		for _, h := range inv.IPDiscover {
			name := h.Name
			if name == "" {
				name = "-"
			}
			ipd.Kids = append(ipd.Kids, &ocsxml.Node{Name: "H", Kids: []*ocsxml.Node{
				ocsxml.Elem("I", h.IP), ocsxml.Elem("M", h.MAC), ocsxml.Elem("N", name)}})
		}
		kids = append(kids, ipd)
	}
	if inv.OldDeviceID != "" {
		kids = append(kids, ocsxml.Elem(SectionOldDeviceID, inv.OldDeviceID))
	}
	for name, recs := range inv.Extra {
		for _, r := range recs {
			kids = append(kids, mapRecord(name, r))
		}
	}
	sort.SliceStable(kids, func(i, j int) bool { return kids[i].Name < kids[j].Name })
	content.Kids = kids
	return content
}

func record(name string, v reflect.Value) *ocsxml.Node {
	ft := tables[v.Type()]
	fields := Record{}
	for _, xn := range ft.names {
		if s := v.Field(ft.byName[xn]).String(); s != "" {
			fields[xn] = s
		}
	}
	if ft.other >= 0 {
		for k, val := range v.Field(ft.other).Interface().(Record) {
			fields[k] = val
		}
	}
	return mapRecord(name, fields)
}

func mapRecord(name string, r Record) *ocsxml.Node {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := &ocsxml.Node{Name: name}
	for _, k := range keys {
		n.Kids = append(n.Kids, ocsxml.Elem(k, r[k]))
	}
	return n
}

// Checksum returns the HARDWARE/CHECKSUM bitmask the agent sent, and false
// when it sent none (the server must then rewrite every section).
func (inv *Inventory) Checksum() (uint32, bool) {
	s := inv.Hardware.Checksum
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

// Tag returns the TAG account info value, or "".
func (inv *Inventory) Tag() string {
	for _, a := range inv.AccountInfo {
		if a.KeyName == "TAG" {
			return a.KeyValue
		}
	}
	return ""
}
