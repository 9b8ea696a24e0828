package ocsxml

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// parseFast reads the documents agents actually send (UTF-8, ASCII names,
// the five predefined entities and character references, comments, an
// XML declaration) in one pass over the bytes, without encoding/xml's
// per-byte reader: on a 337 KB inventory it is several times faster. It
// gives up (ok false) on anything else or on any error, and Parse then
// reads the document with encoding/xml, which gives the error message
// users see. So both paths accept the same documents and build the same
// tree; FuzzParseFast checks that.
func parseFast(data []byte, lim Limits) (root *Node, ok bool) {
	p := fastParser{d: data, names: make(map[string]string, 64)}
	var stack []openElem
	count := 0
	for p.i < len(p.d) {
		if p.d[p.i] != '<' {
			chunk, ok := p.text()
			if !ok {
				return nil, false
			}
			if len(stack) > 0 {
				stack[len(stack)-1].add(chunk)
			}
			continue
		}
		if p.i+1 >= len(p.d) {
			return nil, false
		}
		switch p.d[p.i+1] {
		case '/':
			p.i += 2
			name, ok := p.name()
			if !ok || len(stack) == 0 {
				return nil, false
			}
			p.space()
			if p.i >= len(p.d) || p.d[p.i] != '>' {
				return nil, false
			}
			p.i++
			top := &stack[len(stack)-1]
			if top.n.Name != name {
				return nil, false
			}
			top.close()
			stack = stack[:len(stack)-1]
		case '?':
			if !p.procInst() {
				return nil, false
			}
		case '!':
			if !p.comment() {
				return nil, false
			}
		default:
			p.i++
			if root != nil && len(stack) == 0 {
				return nil, false // a second root
			}
			if len(stack) >= lim.MaxDepth {
				return nil, false
			}
			if count++; count > lim.MaxElements {
				return nil, false
			}
			n, empty, ok := p.startTag()
			if !ok {
				return nil, false
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1].n
				parent.Kids = append(parent.Kids, n)
			} else {
				root = n
			}
			if !empty {
				stack = append(stack, openElem{n: n})
			}
		}
	}
	if root == nil || len(stack) > 0 {
		return nil, false
	}
	return root, true
}

type fastParser struct {
	d     []byte
	i     int
	names map[string]string // element and attribute names, allocated once each
}

// openElem is an element whose end tag is still to come, and the character
// data read inside it so far.
type openElem struct {
	n    *Node
	txt  []byte // the text so far, aliasing the input while it is one chunk
	own  bool   // txt is a copy that may be appended to
	tail []byte // white space after txt, kept only if more text follows
}

func isSpaceOnly(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// add appends one chunk of character data. Leading and trailing white space
// is trimmed at the end anyway, so white space between child elements never
// costs a copy.
func (e *openElem) add(c []byte) {
	if len(c) == 0 || len(e.txt) == 0 && isSpaceOnly(c) {
		return
	}
	if isSpaceOnly(c) {
		e.tail = append(e.tail, c...)
		return
	}
	if len(e.txt) == 0 {
		e.txt = c
		return
	}
	if !e.own {
		e.txt = append([]byte(nil), e.txt...)
		e.own = true
	}
	e.txt = append(append(e.txt, e.tail...), c...)
	e.tail = e.tail[:0]
}

func (e *openElem) close() {
	e.n.Text = string(bytes.TrimSpace(e.txt))
}

func (p *fastParser) space() {
	for p.i < len(p.d) {
		switch p.d[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func isNameStart(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' || c == ':'
}

func isNameRest(c byte) bool {
	return isNameStart(c) || '0' <= c && c <= '9' || c == '.' || c == '-'
}

// name reads an ASCII XML name; other names go to the full parser.
func (p *fastParser) name() (string, bool) {
	start := p.i
	if p.i >= len(p.d) || !isNameStart(p.d[p.i]) {
		return "", false
	}
	for p.i < len(p.d) && isNameRest(p.d[p.i]) {
		p.i++
	}
	if p.i < len(p.d) && p.d[p.i] >= utf8.RuneSelf {
		return "", false
	}
	b := p.d[start:p.i]
	if s, ok := p.names[string(b)]; ok {
		return s, true
	}
	s := string(b)
	p.names[s] = s
	return s, true
}

// startTag reads a start tag after its '<'.
func (p *fastParser) startTag() (n *Node, empty, ok bool) {
	name, ok := p.name()
	if !ok {
		return nil, false, false
	}
	n = &Node{Name: name}
	for {
		p.space()
		if p.i >= len(p.d) {
			return nil, false, false
		}
		switch p.d[p.i] {
		case '>':
			p.i++
			return n, false, true
		case '/':
			if p.i+1 >= len(p.d) || p.d[p.i+1] != '>' {
				return nil, false, false
			}
			p.i += 2
			return n, true, true
		}
		an, ok := p.name()
		if !ok {
			return nil, false, false
		}
		p.space()
		if p.i >= len(p.d) || p.d[p.i] != '=' {
			return nil, false, false
		}
		p.i++
		p.space()
		if p.i >= len(p.d) || p.d[p.i] != '"' && p.d[p.i] != '\'' {
			return nil, false, false
		}
		q := p.d[p.i]
		end := bytes.IndexByte(p.d[p.i+1:], q)
		if end < 0 {
			return nil, false, false
		}
		raw := p.d[p.i+1 : p.i+1+end]
		if bytes.IndexByte(raw, '<') >= 0 {
			return nil, false, false
		}
		v, ok := decodeText(raw, false)
		if !ok {
			return nil, false, false
		}
		p.i += end + 2
		n.Attrs = append(n.Attrs, Attr{Name: an, Value: string(v)})
	}
}

// text reads character data up to the next '<'.
func (p *fastParser) text() ([]byte, bool) {
	end := bytes.IndexByte(p.d[p.i:], '<')
	if end < 0 {
		end = len(p.d) - p.i
	}
	raw := p.d[p.i : p.i+end]
	p.i += end
	return decodeText(raw, true)
}

// decodeText resolves entities and line ends in raw character data the way
// encoding/xml does, and checks every character is one XML allows. It
// returns raw itself when nothing needs changing.
func decodeText(raw []byte, chardata bool) ([]byte, bool) {
	plain := true
	for _, c := range raw {
		if c == '&' || c == '\r' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if chardata && bytes.Contains(raw, []byte("]]>")) {
		return nil, false
	}
	if plain {
		return raw, true // printable ASCII: controls were scrubbed already
	}
	out := make([]byte, 0, len(raw))
	var prev byte
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '&':
			s, n, ok := entity(raw[i:])
			if !ok {
				return nil, false
			}
			out = append(out, s...)
			i += n
			prev = 0
			continue
		case c == '\r':
			out = append(out, '\n')
		case c == '\n' && prev == '\r':
			// \r\n was written as \n already
		default:
			out = append(out, c)
		}
		prev = c
		i++
	}
	for b := out; len(b) > 0; {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 || !inCharRange(r) {
			return nil, false
		}
		b = b[size:]
	}
	return out, true
}

// entity reads one entity or character reference at the start of b.
func entity(b []byte) (string, int, bool) {
	for _, e := range [...]struct{ name, text string }{
		{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}, {"&apos;", "'"}, {"&quot;", `"`},
	} {
		if bytes.HasPrefix(b, []byte(e.name)) {
			return e.text, len(e.name), true
		}
	}
	if len(b) < 3 || b[1] != '#' {
		return "", 0, false
	}
	base, start := 10, 2
	if b[2] == 'x' {
		base, start = 16, 3
	}
	end := start
	for end < len(b) && (b[end] >= '0' && b[end] <= '9' ||
		base == 16 && (b[end] >= 'a' && b[end] <= 'f' || b[end] >= 'A' && b[end] <= 'F')) {
		end++
	}
	if end == start || end >= len(b) || b[end] != ';' {
		return "", 0, false
	}
	v, err := strconv.ParseUint(string(b[start:end]), base, 64)
	if err != nil || v > utf8.MaxRune {
		return "", 0, false
	}
	return string(rune(v)), end + 1, true
}

// inCharRange is XML 1.0's Char production.
func inCharRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// comment skips a comment; "--" inside one is an error, as in XML.
func (p *fastParser) comment() bool {
	if !bytes.HasPrefix(p.d[p.i:], []byte("<!--")) {
		return false // CDATA and DOCTYPE go to the full parser
	}
	k := bytes.Index(p.d[p.i+4:], []byte("--"))
	if k < 0 {
		return false
	}
	end := p.i + 4 + k + 2
	if end >= len(p.d) || p.d[end] != '>' {
		return false
	}
	p.i = end + 1
	return true
}

// procInst skips a processing instruction. The XML declaration is taken
// only in its plain forms: version 1.0, UTF-8 or no encoding.
func (p *fastParser) procInst() bool {
	p.i += 2
	target, ok := p.name()
	if !ok {
		return false
	}
	p.space()
	end := bytes.Index(p.d[p.i:], []byte("?>"))
	if end < 0 {
		return false
	}
	content := p.d[p.i : p.i+end]
	p.i += end + 2
	if target != "xml" {
		return true
	}
	return plainDeclaration(content)
}

// plainDeclaration reports whether an XML declaration's content is a list
// of version, encoding and standalone pseudo-attributes with simple values,
// version 1.0 if given and encoding UTF-8 if given.
func plainDeclaration(c []byte) bool {
	seen := map[string]bool{}
	for {
		c = bytes.TrimLeft(c, " \t\r\n")
		if len(c) == 0 {
			return true
		}
		eq := bytes.IndexByte(c, '=')
		if eq < 0 || eq+1 >= len(c) || c[eq+1] != '"' && c[eq+1] != '\'' {
			return false
		}
		key := string(c[:eq])
		if key != "version" && key != "encoding" && key != "standalone" || seen[key] {
			return false
		}
		seen[key] = true
		q := c[eq+1]
		end := bytes.IndexByte(c[eq+2:], q)
		if end < 0 {
			return false
		}
		v := c[eq+2 : eq+2+end]
		for _, b := range v {
			if !isNameRest(b) || b == ':' {
				return false
			}
		}
		switch {
		case key == "version" && string(v) != "1.0":
			return false
		case key == "encoding" && !bytes.EqualFold(v, []byte("utf-8")):
			return false
		}
		c = c[eq+2+end+1:]
		if len(c) > 0 && c[0] != ' ' && c[0] != '\t' && c[0] != '\r' && c[0] != '\n' {
			return false
		}
	}
}
