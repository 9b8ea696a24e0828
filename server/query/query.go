// Package query is muster's device query language, which dynamic groups
// are written in: a parser, and a compiler to one SQL condition over the
// devices table that both store engines evaluate, so that a group is never
// computed by loading every device. Values reach SQL only as arguments.
//
// The language, by example:
//
//	os ~ "windows 10" and lacks software "7-zip" >= "23"
//	has software "firefox" < "115" or (tag = "lab" and seen < 7)
//	subnet = "10.1.2.0/24" and memory >= 8192 and not client = "acme"
//
// Conditions: name, os, tag, client and ip compare text (=, != exactly,
// ~ contains; case-insensitive); memory (MB) and cpus compare numbers;
// seen and inventoried are days since the last contact and the last
// inventory (seen < 7: in contact this week); subnet = "A.B.C.D/N" (N 8,
// 16, 24 or 32); has software NAME [OP VERSION] and lacks software NAME
// [OP VERSION], where NAME is contained in the package's name and the
// version compares by its parts (9.1 < 10.0 < 10.0.1). "and" binds
// tighter than "or"; "not" and parentheses as usual.
package query

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits of one query.
const (
	MaxLen   = 4096
	MaxDepth = 32
	MaxConds = 100
)

// Node is a parsed query.
type Node struct {
	// Op is "and", "or", "not" or "cond".
	Op   string
	Kids []*Node
	// A condition: Field (or "software" with Has), Cmp and Value; a
	// software condition may carry a version comparison.
	Field, Cmp, Value string
	Has               bool
	VCmp, Version     string
}

type token struct {
	kind string // word, str, num, op, ( )
	text string
	pos  int
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			out = append(out, token{string(c), string(c), i})
			i++
		case c == '"':
			j := i + 1
			var b strings.Builder
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("at %d: a string is not closed (\")", i+1)
			}
			out = append(out, token{"str", b.String(), i})
			i = j + 1
		case strings.ContainsRune("=!<>~", rune(c)):
			j := i + 1
			if j < len(s) && s[j] == '=' && c != '~' && c != '=' {
				j++
			}
			op := s[i:j]
			if op == "!" {
				return nil, fmt.Errorf("at %d: ! alone: want !=", i+1)
			}
			out = append(out, token{"op", op, i})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			out = append(out, token{"num", s[i:j], i})
			i = j
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_':
			j := i
			for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] == '_' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			out = append(out, token{"word", strings.ToLower(s[i:j]), i})
			i = j
		default:
			return nil, fmt.Errorf("at %d: unexpected %q", i+1, c)
		}
	}
	return out, nil
}

type parser struct {
	toks  []token
	i     int
	conds int
}

func (p *parser) peek() *token {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *parser) where() string {
	if t := p.peek(); t != nil {
		return fmt.Sprintf("at %d (%q)", t.pos+1, t.text)
	}
	return "at the end"
}

// Parse reads a query, with errors that say where it went wrong.
func Parse(s string) (*Node, error) {
	if len(s) > MaxLen {
		return nil, fmt.Errorf("query of %d bytes: at most %d", len(s), MaxLen)
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("an empty query")
	}
	p := &parser{toks: toks}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.peek() != nil {
		return nil, fmt.Errorf("%s: want and, or, or the end", p.where())
	}
	return n, nil
}

func (p *parser) or(depth int) (*Node, error) {
	return p.chain(depth, "or", p.and)
}

func (p *parser) and(depth int) (*Node, error) {
	return p.chain(depth, "and", p.unary)
}

func (p *parser) chain(depth int, op string, next func(int) (*Node, error)) (*Node, error) {
	first, err := next(depth)
	if err != nil {
		return nil, err
	}
	n := &Node{Op: op, Kids: []*Node{first}}
	for t := p.peek(); t != nil && t.kind == "word" && t.text == op; t = p.peek() {
		p.i++
		k, err := next(depth)
		if err != nil {
			return nil, err
		}
		n.Kids = append(n.Kids, k)
	}
	if len(n.Kids) == 1 {
		return first, nil
	}
	return n, nil
}

func (p *parser) unary(depth int) (*Node, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("%s: nested deeper than %d", p.where(), MaxDepth)
	}
	t := p.peek()
	switch {
	case t == nil:
		return nil, fmt.Errorf("at the end: want a condition")
	case t.kind == "word" && t.text == "not":
		p.i++
		k, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Node{Op: "not", Kids: []*Node{k}}, nil
	case t.kind == "(":
		p.i++
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if t := p.peek(); t == nil || t.kind != ")" {
			return nil, fmt.Errorf("%s: want )", p.where())
		}
		p.i++
		return n, nil
	}
	p.conds++
	if p.conds > MaxConds {
		return nil, fmt.Errorf("more than %d conditions", MaxConds)
	}
	return p.cond()
}

var fields = map[string]string{ // field → its kind
	"name": "text", "os": "text", "tag": "text", "client": "text", "ip": "text",
	"memory": "num", "cpus": "num", "seen": "days", "inventoried": "days", "subnet": "subnet",
}

func (p *parser) cond() (*Node, error) {
	t := p.peek()
	if t.kind != "word" {
		return nil, fmt.Errorf("%s: want a field (%s) or has/lacks software", p.where(), fieldList())
	}
	p.i++
	if t.text == "has" || t.text == "lacks" {
		if w := p.peek(); w == nil || w.kind != "word" || w.text != "software" {
			return nil, fmt.Errorf("%s: want software after %s", p.where(), t.text)
		}
		p.i++
		name := p.peek()
		if name == nil || name.kind != "str" || strings.TrimSpace(name.text) == "" {
			return nil, fmt.Errorf("%s: want the software's name in quotes", p.where())
		}
		p.i++
		n := &Node{Op: "cond", Field: "software", Has: t.text == "has", Value: name.text}
		if op := p.peek(); op != nil && op.kind == "op" {
			if op.text == "~" {
				return nil, fmt.Errorf("%s: a version compares with = != < <= > >=", p.where())
			}
			p.i++
			v := p.peek()
			if v == nil || (v.kind != "str" && v.kind != "num") {
				return nil, fmt.Errorf("%s: want a version", p.where())
			}
			p.i++
			n.VCmp, n.Version = op.text, v.text
		}
		return n, nil
	}
	kind, ok := fields[t.text]
	if !ok {
		return nil, fmt.Errorf("at %d: unknown field %q (want %s, or has/lacks software)", t.pos+1, t.text, fieldList())
	}
	op := p.peek()
	if op == nil || op.kind != "op" {
		return nil, fmt.Errorf("%s: want = != ~ < <= > >= after %s", p.where(), t.text)
	}
	p.i++
	v := p.peek()
	if v == nil || (v.kind != "str" && v.kind != "num") {
		return nil, fmt.Errorf("%s: want a value", p.where())
	}
	p.i++
	n := &Node{Op: "cond", Field: t.text, Cmp: op.text, Value: v.text}
	switch kind {
	case "text":
		if op.text != "=" && op.text != "!=" && op.text != "~" {
			return nil, fmt.Errorf("at %d: %s compares text with =, != or ~", op.pos+1, t.text)
		}
	case "num", "days":
		if op.text == "~" {
			return nil, fmt.Errorf("at %d: %s compares numbers with = != < <= > >=", op.pos+1, t.text)
		}
		if _, err := strconv.ParseFloat(v.text, 64); err != nil || v.kind != "num" {
			return nil, fmt.Errorf("at %d: %s wants a number", v.pos+1, t.text)
		}
	case "subnet":
		if op.text != "=" {
			return nil, fmt.Errorf("at %d: subnet takes = \"A.B.C.D/N\"", op.pos+1)
		}
		if _, err := subnetPrefix(v.text); err != nil {
			return nil, fmt.Errorf("at %d: %v", v.pos+1, err)
		}
	}
	return n, nil
}

func fieldList() string {
	return "name, os, tag, client, ip, subnet, memory, cpus, seen, inventoried"
}

// subnetPrefix turns A.B.C.D/N (N 8, 16, 24, 32) into the text an address
// of it starts with ("10.1.2." for a /24).
func subnetPrefix(s string) (string, error) {
	addr, bits, ok := strings.Cut(s, "/")
	parts := strings.Split(addr, ".")
	n, err := strconv.Atoi(bits)
	if !ok || err != nil || len(parts) != 4 || n%8 != 0 || n < 8 || n > 32 {
		return "", fmt.Errorf("subnet %q: want A.B.C.D/N with N 8, 16, 24 or 32", s)
	}
	for _, x := range parts {
		if v, err := strconv.Atoi(x); err != nil || v < 0 || v > 255 || strconv.Itoa(v) != x {
			return "", fmt.Errorf("subnet %q: %q is no address byte", s, x)
		}
	}
	if n == 32 {
		return addr, nil
	}
	return strings.Join(parts[:n/8], ".") + ".", nil
}
