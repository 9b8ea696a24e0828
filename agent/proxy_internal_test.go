package agent

import (
	"bytes"
	"testing"
)

func TestProxyURL(t *testing.T) {
	for _, tc := range []struct {
		typ        int
		host       string
		port       int
		want       string
		shouldFail bool
	}{
		{0, "ignored", 0, "", false},
		{1, "proxy", 8080, "http://proxy:8080", false},
		{1, "proxy", 0, "http://proxy:3128", false},
		{2, "10.0.0.1", 0, "socks4://10.0.0.1:1080", false},
		{3, "socks.corp", 1081, "socks5://socks.corp:1081", false},
		{3, "http://socks.corp/", 0, "socks5://socks.corp:1080", false},
		{3, "::1", 0, "socks5://[::1]:1080", false},
		{1, "", 0, "", true},
		{4, "proxy", 0, "", true},
		{2, "user@proxy", 0, "", true},
		{2, "proxy", 70000, "", true},
	} {
		got, err := ProxyURL(tc.typ, tc.host, tc.port)
		if (err != nil) != tc.shouldFail || got != tc.want {
			t.Errorf("ProxyURL(%d, %q, %d) = %q, %v; want %q", tc.typ, tc.host, tc.port, got, err, tc.want)
		}
	}
}

func TestSOCKS4Codec(t *testing.T) {
	req, err := socks4Request([4]byte{10, 77, 0, 5}, 8080, "fred")
	want := []byte{4, 1, 0x1f, 0x90, 10, 77, 0, 5, 'f', 'r', 'e', 'd', 0}
	if err != nil || !bytes.Equal(req, want) {
		t.Errorf("request % x, %v; want % x", req, err, want)
	}
	if _, err := socks4Request([4]byte{}, 1, "a\x00b"); err == nil {
		t.Error("a user id with NUL was accepted")
	}
	for _, tc := range []struct {
		reply [8]byte
		ok    bool
	}{
		{[8]byte{0, 90}, true},
		{[8]byte{0, 91}, false},
		{[8]byte{0, 92}, false},
		{[8]byte{5, 0}, false}, // a SOCKS5 server's answer
		{[8]byte{0, 7}, false},
	} {
		if err := socks4Reply(tc.reply); (err == nil) != tc.ok {
			t.Errorf("reply % x: %v", tc.reply, err)
		}
	}
}

func FuzzSOCKS4Reply(f *testing.F) {
	f.Add([]byte{0, 90, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r [8]byte
		copy(r[:], b)
		if err := socks4Reply(r); (err == nil) != (r[0] == 0 && r[1] == 90) {
			t.Fatalf("% x: %v", r, err)
		}
	})
}
