package ocsxml

import (
	"fmt"
	"regexp"
	"strconv"
)

// Query values of the OCS protocol, compared case-sensitively as the real
// server does.
const (
	QueryProlog    = "PROLOG"
	QueryInventory = "INVENTORY"
	QueryNotify    = "NOTIFY"
	QueryDownload  = "DOWNLOAD"
	QuerySNMP      = "SNMP"
)

// Response values of PROLOG and INVENTORY replies.
const (
	Send            = "SEND"
	Stop            = "STOP"
	AccountUpdate   = "ACCOUNT_UPDATE"
	NoAccountUpdate = "NO_ACCOUNT_UPDATE"
)

// RequestDecl and ReplyDecl are the XML declarations agents and the server
// write (the server's uses single quotes).
const (
	RequestDecl = `<?xml version="1.0" encoding="UTF-8"?>`
	ReplyDecl   = `<?xml version='1.0' encoding='UTF-8'?>`
)

var deviceIDRe = regexp.MustCompile(`^.+-\d{4}(-\d{2}){5}$`)

// ValidDeviceID reports whether id has the shape the OCS server demands:
// a host name, then -YYYY-MM-DD-HH-MM-SS.
func ValidDeviceID(id string) bool { return len(id) <= 255 && deviceIDRe.MatchString(id) }

// Request is an agent's message: the REQUEST root with its DEVICEID and
// QUERY (each an attribute or a child element), and its CONTENT if any.
type Request struct {
	Root     *Node
	DeviceID string
	Query    string
	// Content is the CONTENT element, nil when absent.
	Content *Node
}

// ParseRequest parses an inflated body as a REQUEST document.
func ParseRequest(data []byte, lim Limits) (*Request, error) {
	root, err := Parse(data, lim)
	if err != nil {
		return nil, err
	}
	if root.Name != "REQUEST" {
		return nil, fmt.Errorf("root element is <%s>, want <REQUEST>", root.Name)
	}
	return &Request{
		Root:     root,
		DeviceID: root.Get("DEVICEID"),
		Query:    root.Get("QUERY"),
		Content:  root.Child("CONTENT"),
	}, nil
}

// NewRequest builds a request document for query, with content as its
// CONTENT element (nil for none).
func NewRequest(deviceID, query string, content *Node) *Node {
	root := &Node{Name: "REQUEST"}
	if content != nil {
		content.Name = "CONTENT"
		root.Kids = append(root.Kids, content)
	}
	root.Kids = append(root.Kids, Elem("DEVICEID", deviceID), Elem("QUERY", query))
	return root
}

// Param is one PARAM of a prolog OPTION: data in attributes, plus text (the
// network number of IPDISCOVER).
type Param struct {
	Attrs []Attr
	Text  string
}

// Get returns the attribute name of p, or "".
func (p Param) Get(name string) string {
	for _, a := range p.Attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

// Option is one OPTION block of a prolog reply (DOWNLOAD, IPDISCOVER, …).
type Option struct {
	Name   string
	Params []Param
}

// PrologReply is the server's answer to a PROLOG.
type PrologReply struct {
	// Response is Send or Stop.
	Response string
	// PrologFreq is the number of hours between agent contacts.
	PrologFreq         int
	InventoryOnStartup bool
	Options            []Option
}

// Node renders r as a REPLY tree.
func (r *PrologReply) Node() *Node {
	root := &Node{Name: "REPLY"}
	for _, o := range r.Options {
		on := &Node{Name: "OPTION", Kids: []*Node{Elem("NAME", o.Name)}}
		for _, p := range o.Params {
			on.Kids = append(on.Kids, &Node{Name: "PARAM", Attrs: p.Attrs, Text: p.Text})
		}
		root.Kids = append(root.Kids, on)
	}
	ios := "0"
	if r.InventoryOnStartup {
		ios = "1"
	}
	root.Kids = append(root.Kids,
		Elem("RESPONSE", r.Response),
		Elem("PROLOG_FREQ", strconv.Itoa(r.PrologFreq)),
		Elem("INVENTORY_ON_STARTUP", ios))
	return root
}

// ParsePrologReply reads a REPLY to a PROLOG.
func ParsePrologReply(root *Node) (*PrologReply, error) {
	if root.Name != "REPLY" {
		return nil, fmt.Errorf("root element is <%s>, want <REPLY>", root.Name)
	}
	r := &PrologReply{Response: root.Get("RESPONSE")}
	if s := root.Get("PROLOG_FREQ"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("PROLOG_FREQ %q: not a number", s)
		}
		r.PrologFreq = n
	}
	r.InventoryOnStartup = root.Get("INVENTORY_ON_STARTUP") == "1"
	for _, on := range root.All("OPTION") {
		o := Option{Name: on.Get("NAME")}
		for _, pn := range on.All("PARAM") {
			o.Params = append(o.Params, Param{Attrs: pn.Attrs, Text: pn.Text})
		}
		r.Options = append(r.Options, o)
	}
	return r, nil
}

// KeyValue is one ACCOUNTINFO pair.
type KeyValue struct {
	Key, Value string
}

// InventoryReply is the server's answer to an INVENTORY.
type InventoryReply struct {
	// Response is AccountUpdate or NoAccountUpdate.
	Response string
	// AccountInfo is the server's full account info set, sent with
	// AccountUpdate.
	AccountInfo []KeyValue
}

// Node renders r as a REPLY tree.
func (r *InventoryReply) Node() *Node {
	root := &Node{Name: "REPLY"}
	for _, kv := range r.AccountInfo {
		root.Kids = append(root.Kids, &Node{Name: "ACCOUNTINFO", Kids: []*Node{
			Elem("KEYNAME", kv.Key), Elem("KEYVALUE", kv.Value)}})
	}
	root.Kids = append(root.Kids, Elem("RESPONSE", r.Response))
	return root
}

// ParseInventoryReply reads a REPLY to an INVENTORY. Account values are
// taken raw, so that TAG "NA" survives.
func ParseInventoryReply(root *Node) (*InventoryReply, error) {
	if root.Name != "REPLY" {
		return nil, fmt.Errorf("root element is <%s>, want <REPLY>", root.Name)
	}
	r := &InventoryReply{Response: root.Get("RESPONSE")}
	for _, a := range root.All("ACCOUNTINFO") {
		r.AccountInfo = append(r.AccountInfo, KeyValue{Key: a.Get("KEYNAME"), Value: raw(a, "KEYVALUE")})
	}
	return r, nil
}

// raw is Get without the "no value" mapping.
func raw(n *Node, name string) string {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a.Value
		}
	}
	if k := n.Child(name); k != nil {
		return k.Text
	}
	return ""
}

// Raw returns the scalar field name of n (attribute or child element text)
// exactly as written, without mapping "NA" or "??" to absent.
func (n *Node) Raw(name string) string { return raw(n, name) }
