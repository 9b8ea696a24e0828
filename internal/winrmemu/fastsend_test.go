//go:build unix

package winrmemu

import (
	"encoding/xml"
	"reflect"
	"testing"
)

// TestFastSendMatchesDecoder: the fast path reads what encoding/xml reads,
// for Sends as masterzen/winrm and pywinrm write them.
func TestFastSendMatchesDecoder(t *testing.T) {
	for _, body := range []string{
		`<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><env:Header><a:Action mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send</a:Action><a:MessageID>uuid:AB-1</a:MessageID><w:SelectorSet><w:Selector Name="ShellId">S-1</w:Selector></w:SelectorSet></env:Header><env:Body><rsp:Send><rsp:Stream Name="stdin" CommandId="C-1">aGVsbG8=</rsp:Stream></rsp:Send></env:Body></env:Envelope>`,
		`<?xml version="1.0" encoding="utf-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><env:Header><w:SelectorSet><w:Selector Name="ShellId">S-2</w:Selector></w:SelectorSet><a:MessageID>uuid:CD-2</a:MessageID><a:Action mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send</a:Action></env:Header><env:Body><rsp:Send><rsp:Stream Name="stdin" CommandId="C-2" End="true"></rsp:Stream></rsp:Send></env:Body></env:Envelope>`,
		`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header><a:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send</a:Action><a:MessageID>uuid:3</a:MessageID><w:SelectorSet><w:Selector Name="ShellId">S-3</w:Selector></w:SelectorSet></s:Header><s:Body><Send xmlns="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><Stream Name="stdin" CommandId="C-3" End="true"/></Send></s:Body></s:Envelope>`,
	} {
		var want envelope
		if err := xml.Unmarshal([]byte(body), &want); err != nil {
			t.Fatal(err)
		}
		got, ok := fastSend([]byte(body))
		if !ok {
			t.Fatalf("fast path refused %.80q", body)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("fast %+v\nxml  %+v", *got, want)
		}
	}
}

// FuzzFastSend: any body is read as the decoder reads it, or left to it.
func FuzzFastSend(f *testing.F) {
	f.Add(`<a:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send</a:Action><w:Selector Name="ShellId">S</w:Selector><rsp:Stream Name="stdin" CommandId="C">eA==</rsp:Stream>`)
	f.Fuzz(func(t *testing.T, body string) {
		got, ok := fastSend([]byte(body))
		if !ok {
			return
		}
		var want envelope
		if err := xml.Unmarshal([]byte(body), &want); err != nil {
			return // the decoder would refuse it; the fast path is lenient
		}
		if want.Body.Send == nil || len(want.Body.Send.Streams) != 1 {
			return
		}
		if got.Body.Send.Streams[0].Data != want.Body.Send.Streams[0].Data && want.Body.Send.Streams[0].Data != "" {
			t.Fatalf("fast %q, xml %q", got.Body.Send.Streams[0].Data, want.Body.Send.Streams[0].Data)
		}
	})
}
