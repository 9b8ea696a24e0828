package ocsxml

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// sameAsStd checks parseFast against encoding/xml on one document: where
// the fast path takes a document, it must build the tree encoding/xml
// builds, and it may take only documents encoding/xml accepts.
func sameAsStd(t *testing.T, data []byte, lim Limits) (fast bool) {
	t.Helper()
	data = scrubControls(data)
	want, stdErr := parseStd(data, lim)
	got, ok := parseFast(data, lim)
	if !ok {
		return false
	}
	if stdErr != nil {
		t.Fatalf("fast path accepted what encoding/xml refuses (%v):\n%q", stdErr, data)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fast path built another tree for\n%q\nfast: %s\nstd:  %s", data, Marshal("", got), Marshal("", want))
	}
	return true
}

func TestParseFastTakesRealDocuments(t *testing.T) {
	files, _ := filepath.Glob("../testdata/*.xml")
	if len(files) < 4 {
		t.Fatalf("want the agents' documents in ../testdata, found %d", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !sameAsStd(t, data, DefaultLimits) {
			t.Errorf("%s: the fast path gave up on a real agent's document", f)
		}
	}
}

func TestParseFastMatchesStd(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		fast bool // the fast path must take it
	}{
		{`<?xml version="1.0" encoding="UTF-8" ?><A>x</A>`, true},
		{`<?xml version='1.0' encoding='utf-8' standalone='yes'?>` + "\n<A/>", true},
		{`<A B="1" C='two' D = "&lt;&amp;&gt;&quot;&apos;"/>`, true},
		{`<A>caf&#233; &#x263A; &#X41;</A>`, false},
		{"<A>a\r\nb\rc</A>", true},
		{"<A B=\"x\r\ny\"/>", true},
		{`<A> one <B/> two <!-- c --> three </A>`, true},
		{`<A>  <B>k</B>  </A>`, true},
		{`<A>x<!-- c -->y</A>`, true},
		{`<A>héllo wörld</A>`, true},
		{`<A>` + "\u00a0padded\u00a0" + `</A>`, true},
		{`<a:b c:d="1"><e.f-g_h/></a:b>`, true},
		{`<A>&#0;</A>`, false},
		{`<A>&#xD800;</A>`, true},
		{`<A>&nbsp;</A>`, false},
		{`<A>]]></A>`, false},
		{`<A><![CDATA[<x>]]></A>`, false},
		{`<!DOCTYPE A><A/>`, false},
		{`<?xml version="1.0" encoding="ISO-8859-1"?><A>x</A>`, false},
		{`<?xml version="1.1"?><A/>`, false},
		{`<A><B></A></B>`, false},
		{`<A/><B/>`, false},
		{`<A>`, false},
		{`<A x=1/>`, false},
		{`<A x="<"/>`, false},
		{`<A>` + "\xff" + `</A>`, false},
		{`<A>` + "\uFFFE" + `</A>`, false},
		{`<A><!-- a -- b --></A>`, false},
		{`<é/>`, false},
		{"\ufeff<A/>", true},
		{`<A>x</A>trailing`, true},
		{`<A><?pi data?></A>`, true},
	} {
		fast := sameAsStd(t, []byte(tc.doc), DefaultLimits)
		if tc.fast && !fast {
			t.Errorf("%q: the fast path gave up", tc.doc)
		}
		if _, err := Parse([]byte(tc.doc), DefaultLimits); (err == nil) != (func() bool { _, e := parseStd(scrubControls([]byte(tc.doc)), DefaultLimits); return e == nil })() {
			t.Errorf("%q: Parse and encoding/xml disagree on accepting it", tc.doc)
		}
	}
}

func TestParseFastLeavesLimitsToStd(t *testing.T) {
	deep := []byte(`<A><B><C><D/></C></B></A>`)
	if _, err := Parse(deep, Limits{MaxDepth: 3, MaxElements: 100}); err == nil {
		t.Fatal("a document past MaxDepth was accepted")
	}
	if _, err := Parse(deep, Limits{MaxDepth: 8, MaxElements: 3}); err == nil {
		t.Fatal("a document past MaxElements was accepted")
	}
}

func FuzzParseFast(f *testing.F) {
	for _, s := range []string{
		`<?xml version="1.0" encoding="UTF-8"?><REQUEST><A B="1">x&amp;y</A><C/></REQUEST>`,
		"<A>a\r\nb<!-- c -->&#233;</A>",
		`<A x='1' y="&lt;"> <B/> t </A>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsStd(t, data, Limits{MaxDepth: 8, MaxElements: 1000})
	})
}
