//go:build unix

package winrmemu

import (
	"bytes"
	"regexp"
)

// A Send carries up to MaxEnvelopeSize of base64 in one text node, which
// encoding/xml copies byte by byte. The hosts of a push benchmark spend most
// of their CPU there, CPU a real host would spend on its own: fastSend reads
// a plain single-stream Send without the XML decoder, and anything else
// falls back to it.
var (
	sendActionRe = regexp.MustCompile(`<(?:[A-Za-z0-9_]+:)?Action[^>]*>\s*http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send\s*</`)
	messageIDRe  = regexp.MustCompile(`<(?:[A-Za-z0-9_]+:)?MessageID[^>]*>\s*([^<\s]+)\s*</`)
	shellIDRe    = regexp.MustCompile(`<(?:[A-Za-z0-9_]+:)?Selector\s+Name="(?i:ShellId)"[^>]*>\s*([^<\s]+)\s*</`)
	streamRe     = regexp.MustCompile(`<([A-Za-z0-9_]+:)?Stream\b([^>]*)>`)
	attrRe       = regexp.MustCompile(`\b(Name|CommandId|End)="([^"]*)"`)
)

func fastSend(body []byte) (*envelope, bool) {
	head := body
	if len(head) > 4096 {
		head = head[:4096]
	}
	if !sendActionRe.Match(head) || bytes.Contains(body, []byte("<![CDATA[")) {
		return nil, false
	}
	loc := streamRe.FindSubmatchIndex(body)
	if loc == nil {
		return nil, false
	}
	var prefix []byte
	if loc[2] >= 0 {
		prefix = body[loc[2]:loc[3]]
	}
	rest := body[loc[1]:]
	end := 0
	if !bytes.HasSuffix(body[loc[4]:loc[5]], []byte("/")) {
		closing := append(append([]byte("</"), prefix...), "Stream>"...)
		end = bytes.Index(rest, closing)
		if end < 0 {
			return nil, false
		}
		rest = rest[:end]
	} else {
		rest = nil
	}
	if bytes.Count(body, []byte("Stream ")) > 1 || bytes.ContainsAny(rest, "<&") {
		return nil, false // more than one stream, markup or entities inside: the full decoder
	}
	var env envelope
	env.Header.Action = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
	if m := messageIDRe.FindSubmatch(head); m != nil {
		env.Header.MessageID = string(m[1])
	}
	if m := shellIDRe.FindSubmatch(body[:loc[0]]); m != nil {
		env.Header.Selectors = append(env.Header.Selectors, struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		}{"ShellId", string(m[1])})
	}
	type stream = struct {
		Name      string `xml:"Name,attr"`
		CommandID string `xml:"CommandId,attr"`
		End       string `xml:"End,attr"`
		Data      string `xml:",chardata"`
	}
	var st stream
	for _, a := range attrRe.FindAllSubmatch(body[loc[4]:loc[5]], -1) {
		switch string(a[1]) {
		case "Name":
			st.Name = string(a[2])
		case "CommandId":
			st.CommandID = string(a[2])
		case "End":
			st.End = string(a[2])
		}
	}
	st.Data = string(rest)
	env.Body.Send = &struct {
		Streams []stream `xml:"Stream"`
	}{Streams: []stream{st}}
	return &env, true
}
