package push

import (
	"errors"
	"strings"
	"testing"
)

func TestParseHost(t *testing.T) {
	cases := []struct {
		in   string
		want Host
		err  string
	}{
		{in: "pc1", want: Host{Name: "pc1"}},
		{in: "pc1.corp.example", want: Host{Name: "pc1.corp.example"}},
		{in: "10.0.0.5:2222", want: Host{Name: "10.0.0.5", Port: 2222}},
		{in: "ssh://root@10.0.0.5:22", want: Host{Name: "10.0.0.5", Port: 22, Scheme: SchemeSSH, User: "root"}},
		{in: "winrm://PC-7", want: Host{Name: "PC-7", Scheme: SchemeWinRM}},
		{in: "WINRMS://pc7:443", want: Host{Name: "pc7", Port: 443, Scheme: SchemeWinRMS}},
		{in: "[fd00::1]:5985", want: Host{Name: "fd00::1", Port: 5985}},
		{in: "fd00::1", want: Host{Name: "fd00::1"}},
		{in: "ssh://u@[fd00::1]", want: Host{Name: "fd00::1", Scheme: SchemeSSH, User: "u"}},
		{in: "ftp://pc1", err: "unknown scheme"},
		{in: "pc1:0", err: "not 1-65535"},
		{in: "pc1:99999", err: "not 1-65535"},
		{in: "pc1:ssh", err: "not 1-65535"},
		{in: "[fd00::1", err: "missing ]"},
		{in: "[pc1]:22", err: "not an IPv6"},
		{in: "fd00::zz", err: "not an IPv6"},
		{in: "bad host", err: "neither"},
		{in: "-pc", err: "neither"},
		{in: "@pc1", err: "empty user"},
		{in: "ssh://", err: "empty host"},
	}
	for _, c := range cases {
		got, err := ParseHost(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %+v %v, want %+v", c.in, got, err, c.want)
		}
	}
}

func TestParseList(t *testing.T) {
	in := "# ALL.TXT\npc1\n\n  pc2 # the printer room\npc1\nssh://pc1:22\nwinrm://pc1\n10.0.0.9:22\n"
	l, err := ParseList(strings.NewReader(in), "ALL.TXT", SchemeSSH)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range l.Hosts {
		got = append(got, h.Key(SchemeSSH))
	}
	// pc1 twice (and ssh://pc1:22, the same host) dropped; winrm://pc1 is
	// another transport, kept.
	want := "ssh://pc1:22 ssh://pc2:22 winrm://pc1:5985 ssh://10.0.0.9:22"
	if strings.Join(got, " ") != want {
		t.Errorf("hosts %v", got)
	}
	if len(l.Duplicates) != 2 || !strings.Contains(l.Duplicates[0], "ALL.TXT:5") || !strings.Contains(l.Duplicates[0], "line 2") {
		t.Errorf("duplicates %v", l.Duplicates)
	}
	if l.Hosts[1].Line != 4 {
		t.Errorf("pc2 line %d", l.Hosts[1].Line)
	}
}

func TestParseListReportsEveryBadLine(t *testing.T) {
	in := "pc1\nftp://pc2\npc3\npc4:70000\nbad host\n"
	_, err := ParseList(strings.NewReader(in), "ALL.TXT", SchemeSSH)
	var le *ListError
	if !errors.As(err, &le) || len(le.Lines) != 3 {
		t.Fatalf("err %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"ALL.TXT:2", "unknown scheme", "ALL.TXT:4", "ALL.TXT:5"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	for _, empty := range []string{"", "# only comments\n\n"} {
		if _, err := ParseList(strings.NewReader(empty), "EMPTY.TXT", SchemeSSH); err == nil || !strings.Contains(err.Error(), "EMPTY.TXT: no hosts") {
			t.Errorf("empty list: %v", err)
		}
	}
}

func FuzzParseList(f *testing.F) {
	f.Add("pc1\nssh://u@[fd00::1]:22 # c\nwinrms://h:5986\n")
	f.Add("10.0.0.1:22\n\n#\n")
	f.Fuzz(func(t *testing.T, in string) {
		l, err := ParseList(strings.NewReader(in), "f", SchemeSSH)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, h := range l.Hosts {
			// What we parsed, written back, parses to the same host.
			again, err := ParseHost(h.String())
			if err != nil || again.Key(SchemeSSH) != h.Key(SchemeSSH) || again.User != h.User {
				t.Fatalf("%+v -> %q -> %+v %v", h, h.String(), again, err)
			}
			if seen[h.Key(SchemeSSH)] {
				t.Fatalf("duplicate kept: %s", h)
			}
			seen[h.Key(SchemeSSH)] = true
		}
	})
}
