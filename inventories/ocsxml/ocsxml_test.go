package ocsxml

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"strings"
	"testing"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestDecodeBody(t *testing.T) {
	doc := []byte(`<?xml version="1.0"?><REQUEST/>`)
	z := Compress(doc)
	bomb := Compress(bytes.Repeat([]byte("a"), 10<<20))
	cases := []struct {
		name    string
		body    []byte
		max     int64
		enc     Encoding
		wantErr error
		errText string
	}{
		{"zlib", z, 1 << 20, Zlib, nil, ""},
		{"gzip", gz(doc), 1 << 20, Gzip, nil, ""},
		{"plain", doc, 1 << 20, Plain, nil, ""},
		{"plain with BOM and space", append([]byte("\xef\xbb\xbf \n"), doc...), 1 << 20, Plain, nil, ""},
		{"truncated zlib", z[:len(z)-6], 1 << 20, Zlib, nil, "zlib"},
		{"garbage", []byte("hello world"), 1 << 20, 0, ErrNotOCS, ""},
		{"empty", nil, 1 << 20, 0, ErrNotOCS, ""},
		{"compressed over limit", z, 5, 0, ErrTooLarge, ""},
		{"zip bomb", bomb, 1 << 20, Zlib, ErrTooLarge, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, enc, err := DecodeBody(c.body, c.max)
			switch {
			case c.wantErr != nil:
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err = %v, want %v", err, c.wantErr)
				}
			case c.errText != "":
				if err == nil || !strings.Contains(err.Error(), c.errText) {
					t.Fatalf("err = %v, want %q", err, c.errText)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if enc != c.enc || !bytes.Contains(out, []byte("<REQUEST/>")) {
					t.Fatalf("enc %v out %q", enc, out)
				}
			}
		})
	}
}

func TestRealPrologAndReply(t *testing.T) {
	body, err := os.ReadFile("../testdata/prolog.zlib")
	if err != nil {
		t.Fatal(err)
	}
	data, enc, err := DecodeBody(body, 1<<20)
	if err != nil || enc != Zlib {
		t.Fatal(enc, err)
	}
	req, err := ParseRequest(data, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if req.Query != QueryProlog || !ValidDeviceID(req.DeviceID) {
		t.Fatalf("req = %+v", req)
	}
	reply, _ := os.ReadFile("../testdata/prolog-response.xml")
	root, err := Parse(reply, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := ParsePrologReply(root)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Response != Send || pr.PrologFreq != 24 || len(pr.Options) != 1 || pr.Options[0].Params[0].Get("ON") != "0" {
		t.Fatalf("reply = %+v", pr)
	}
	// Our rendering of the same reply parses back to the same values.
	back, err := Parse(Marshal(ReplyDecl, pr.Node()), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	pr2, _ := ParsePrologReply(back)
	if pr2.Response != pr.Response || pr2.PrologFreq != pr.PrologFreq || pr2.Options[0].Params[0].Get("CYCLE_LATENCY") != "60" {
		t.Fatalf("re-rendered reply = %+v", pr2)
	}
}

func TestInventoryReplyKeepsNA(t *testing.T) {
	reply, _ := os.ReadFile("../testdata/inventory-response.xml")
	root, err := Parse(reply, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseInventoryReply(root)
	if err != nil {
		t.Fatal(err)
	}
	if r.Response != AccountUpdate || len(r.AccountInfo) != 1 || r.AccountInfo[0] != (KeyValue{"TAG", "NA"}) {
		t.Fatalf("reply = %+v", r)
	}
}

func TestValidDeviceID(t *testing.T) {
	for id, want := range map[string]bool{
		"vm-2026-11-21-10-26-56":      true,
		"my-host-2026-11-21-10-26-56": true,
		"foo":                         false,
		"-2026-11-21-10-26-56":        false,
		"vm-2026-11-21-10-26":         false,
		"vm-2026-11-21-10-26-5x":      false,
	} {
		if ValidDeviceID(id) != want {
			t.Errorf("ValidDeviceID(%q) = %v", id, !want)
		}
	}
}

func TestParseLimits(t *testing.T) {
	_, err := Parse([]byte(strings.Repeat("<a>", 40)+strings.Repeat("</a>", 40)), DefaultLimits)
	if !errors.Is(err, ErrTooDeep) {
		t.Fatalf("deep: %v", err)
	}
	_, err = Parse([]byte("<a>"+strings.Repeat("<b/>", 20)+"</a>"), Limits{MaxDepth: 5, MaxElements: 10})
	if !errors.Is(err, ErrTooManyElements) {
		t.Fatalf("many: %v", err)
	}
	_, err = Parse([]byte(`<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>`), DefaultLimits)
	if err == nil {
		t.Fatal("external entity was accepted")
	}
	n, err := Parse([]byte("<a>x\x01y</a>"), DefaultLimits)
	if err != nil || n.Text != "x y" {
		t.Fatalf("control chars: %v %q", err, n.Text)
	}
	n, err = Parse([]byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>caf\xe9</a>"), DefaultLimits)
	if err != nil || n.Text != "café" {
		t.Fatalf("latin1: %v %q", err, n.Text)
	}
}

func TestParseTagPairing(t *testing.T) {
	for _, bad := range []string{"<a></b>", "<a><b></a></b>", "<a>", "<a></a></a>", "</a>"} {
		if _, err := Parse([]byte(bad), DefaultLimits); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	n, err := Parse([]byte(`<x:a y:b="1"><x:c>v</x:c></x:a>`), DefaultLimits)
	if err != nil || n.Name != "x:a" || n.Attrs[0].Name != "y:b" || n.Get("x:c") != "v" {
		t.Fatalf("prefixed names: %v %+v", err, n)
	}
}

func FuzzDecodeBody(f *testing.F) {
	doc := []byte(`<REQUEST><QUERY>PROLOG</QUERY></REQUEST>`)
	f.Add(Compress(doc))
	f.Add(gz(doc))
	f.Add(doc)
	f.Fuzz(func(t *testing.T, body []byte) {
		out, _, err := DecodeBody(body, 1<<16)
		if err == nil && len(out) > 1<<16 {
			t.Fatalf("inflated %d bytes past the limit", len(out))
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`<REQUEST A="1"><B>x</B><C/></REQUEST>`))
	f.Add([]byte(`<REPLY><OPTION><NAME>IPDISCOVER</NAME><PARAM IPDISC_LAT="100">192.168.1.0</PARAM></OPTION></REPLY>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Parse(data, Limits{MaxDepth: 8, MaxElements: 1000})
		if err != nil {
			return
		}
		// Our own rendering of a parsed tree must parse again.
		if _, err := Parse(Marshal("", n), Limits{MaxDepth: 8, MaxElements: 1000}); err != nil {
			t.Fatalf("re-parse: %v\n%s", err, Marshal("", n))
		}
	})
}
