// Package ocsxml reads and writes the OCS Inventory NG agent protocol on the
// wire: compressed bodies, the XML::Simple-style document tree in which
// attributes and child elements are interchangeable, and the REQUEST and
// REPLY envelopes. The server, the agent and the .ocs importer all share it.
// It works on bytes and readers only; it does no network or file I/O.
package ocsxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// Limits bound what a document may contain, so that a hostile body cannot
// exhaust the parser.
type Limits struct {
	// MaxDepth is the deepest element nesting accepted (the root is depth 1).
	MaxDepth int
	// MaxElements is the largest number of elements in one document.
	MaxElements int
}

// DefaultLimits are generous for real inventories (an OCS document nests at
// most five levels and a big one holds tens of thousands of elements).
var DefaultLimits = Limits{MaxDepth: 32, MaxElements: 2_000_000}

// ErrTooDeep is returned when a document nests deeper than Limits.MaxDepth.
var ErrTooDeep = errors.New("xml nested too deeply")

// ErrTooManyElements is returned when a document exceeds Limits.MaxElements.
var ErrTooManyElements = errors.New("xml has too many elements")

// Node is one XML element. Attributes and child elements are kept apart, but
// Get and All look in both, as the OCS server's XML::Simple parser does.
type Node struct {
	Name  string
	Attrs []Attr
	// Text is the element's character data, trimmed of surrounding space.
	Text string
	Kids []*Node
}

// Attr is one attribute of a Node.
type Attr struct {
	Name, Value string
}

// Get returns the scalar field name of n: an attribute of that name, else
// the text of the first child element of that name. Empty values and the
// OCS "no value" markers count as absent and yield "".
func (n *Node) Get(name string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attrs {
		if a.Name == name {
			return clean(a.Value)
		}
	}
	for _, k := range n.Kids {
		if k.Name == name {
			return clean(k.Text)
		}
	}
	return ""
}

// Child returns the first child element called name, or nil.
func (n *Node) Child(name string) *Node {
	if n == nil {
		return nil
	}
	for _, k := range n.Kids {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// All returns every child element called name, in document order.
func (n *Node) All(name string) []*Node {
	if n == nil {
		return nil
	}
	var out []*Node
	for _, k := range n.Kids {
		if k.Name == name {
			out = append(out, k)
		}
	}
	return out
}

// Empty reports whether n carries no data at all: no attributes, no text and
// no children that carry data. OCS treats such elements as absent.
func (n *Node) Empty() bool {
	if n == nil {
		return true
	}
	if n.Text != "" {
		return false
	}
	for _, a := range n.Attrs {
		if clean(a.Value) != "" {
			return false
		}
	}
	for _, k := range n.Kids {
		if !k.Empty() {
			return false
		}
	}
	return true
}

// Fields returns n's scalar fields: its attributes and its childless child
// elements, by name, skipping empty values. A field given more than once
// (the several MEMBER of a LOCAL_GROUPS) has its values joined with commas.
func (n *Node) Fields() map[string]string {
	out := make(map[string]string, len(n.Attrs)+len(n.Kids))
	add := func(name, v string) {
		if v = clean(v); v == "" {
			return
		}
		if old, dup := out[name]; dup {
			out[name] = old + "," + v
			return
		}
		out[name] = v
	}
	for _, a := range n.Attrs {
		add(a.Name, a.Value)
	}
	for _, k := range n.Kids {
		if len(k.Kids) == 0 && len(k.Attrs) == 0 {
			add(k.Name, k.Text)
		}
	}
	return out
}

// clean maps the values OCS reads as "no value" to "".
func clean(s string) string {
	s = strings.TrimSpace(s)
	switch s {
	case "??", "N/A", "NA":
		// "NA" is also the schema default of TAG; the store restores it.
		return ""
	}
	return s
}

// Parse reads one XML document into a tree, within lim. Characters that XML
// forbids (C0 controls other than tab, CR and LF) are read as spaces, as the
// OCS agents strip them; ISO-8859-1 and Windows-1252 declarations are
// decoded. External entities are never resolved.
func Parse(data []byte, lim Limits) (*Node, error) {
	if lim.MaxDepth <= 0 {
		lim = DefaultLimits
	}
	data = scrubControls(data)
	if root, ok := parseFast(data, lim); ok {
		return root, nil
	}
	return parseStd(data, lim)
}

// parseStd is Parse through encoding/xml: every document parseFast leaves,
// and the error messages.
func parseStd(data []byte, lim Limits) (*Node, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = charsetReader
	var (
		stack []*Node
		root  *Node
		count int
		text  [][]byte
	)
	for {
		// Raw tokens keep names as written ("a:b" stays "a:b"); OCS uses no
		// namespaces. RawToken does not pair start and end tags: we do.
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, fmt.Errorf("parse xml: line %d: more than one root element", lineOf(d, data))
			}
			if len(stack) >= lim.MaxDepth {
				return nil, fmt.Errorf("parse xml: line %d: %w (limit %d)", lineOf(d, data), ErrTooDeep, lim.MaxDepth)
			}
			count++
			if count > lim.MaxElements {
				return nil, fmt.Errorf("parse xml: %w (limit %d)", ErrTooManyElements, lim.MaxElements)
			}
			n := &Node{Name: qname(t.Name)}
			for _, a := range t.Attr {
				n.Attrs = append(n.Attrs, Attr{Name: qname(a.Name), Value: a.Value})
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Kids = append(p.Kids, n)
			} else {
				root = n
			}
			stack = append(stack, n)
			text = append(text, nil)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, fmt.Errorf("parse xml: line %d: unexpected </%s>", lineOf(d, data), qname(t.Name))
			}
			n := stack[len(stack)-1]
			if n.Name != qname(t.Name) {
				return nil, fmt.Errorf("parse xml: line %d: element <%s> closed by </%s>", lineOf(d, data), n.Name, qname(t.Name))
			}
			n.Text = strings.TrimSpace(string(text[len(text)-1]))
			stack = stack[:len(stack)-1]
			text = text[:len(text)-1]
		case xml.CharData:
			if len(text) > 0 {
				text[len(text)-1] = append(text[len(text)-1], t...)
			}
		}
	}
	if root == nil {
		return nil, errors.New("parse xml: no root element")
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("parse xml: unexpected end of document: <%s> not closed", stack[len(stack)-1].Name)
	}
	return root, nil
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// lineOf gives the line of the decoder's current offset, for error messages.
func lineOf(d *xml.Decoder, data []byte) int {
	off := int(d.InputOffset())
	if off > len(data) {
		off = len(data)
	}
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

func scrubControls(data []byte) []byte {
	var out []byte
	for i, c := range data {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			if out == nil {
				out = append([]byte(nil), data...)
			}
			out[i] = ' '
		}
	}
	if out == nil {
		return data
	}
	return out
}

func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		return charmap.ISO8859_1.NewDecoder().Reader(input), nil
	case "windows-1252", "cp1252":
		return charmap.Windows1252.NewDecoder().Reader(input), nil
	}
	return nil, fmt.Errorf("unsupported xml encoding %q", label)
}

// Marshal writes n as an XML document with the given declaration (may be
// empty). Attributes come first, then text, then children, indented by two
// spaces per level as the OCS agents and server do.
func Marshal(decl string, n *Node) []byte {
	var b bytes.Buffer
	if decl != "" {
		b.WriteString(decl)
		b.WriteByte('\n')
	}
	writeNode(&b, n, 0)
	return b.Bytes()
}

func writeNode(b *bytes.Buffer, n *Node, depth int) {
	indent := strings.Repeat("  ", depth)
	b.WriteString(indent)
	b.WriteByte('<')
	b.WriteString(n.Name)
	for _, a := range n.Attrs {
		b.WriteByte(' ')
		b.WriteString(a.Name)
		b.WriteString(`="`)
		escape(b, a.Value)
		b.WriteByte('"')
	}
	if n.Text == "" && len(n.Kids) == 0 {
		b.WriteString(" />\n")
		return
	}
	b.WriteByte('>')
	if len(n.Kids) == 0 {
		escape(b, n.Text)
	} else {
		b.WriteByte('\n')
		if n.Text != "" {
			b.WriteString(indent + "  ")
			escape(b, n.Text)
			b.WriteByte('\n')
		}
		for _, k := range n.Kids {
			writeNode(b, k, depth+1)
		}
		b.WriteString(indent)
	}
	b.WriteString("</")
	b.WriteString(n.Name)
	b.WriteString(">\n")
}

func escape(b *bytes.Buffer, s string) {
	// xml.EscapeText never fails on a bytes.Buffer.
	_ = xml.EscapeText(b, []byte(s))
}

// Elem builds a childless element holding text.
func Elem(name, text string) *Node { return &Node{Name: name, Text: text} }
