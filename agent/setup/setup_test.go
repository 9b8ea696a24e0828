package setup

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestFindRoundTrip(t *testing.T) {
	exe, msi := bytes.Repeat([]byte("MZ"), 100), []byte("MSI-BYTES")
	file := append(append(append([]byte{}, exe...), msi...), Trailer(int64(len(msi)))...)
	off, size, ok, err := Find(bytes.NewReader(file), int64(len(file)))
	if err != nil || !ok || !bytes.Equal(file[off:off+size], msi) {
		t.Fatalf("Find: %d %d %v %v", off, size, ok, err)
	}
	// A plain program carries none.
	if _, _, ok, err := Find(bytes.NewReader(exe), int64(len(exe))); ok || err != nil {
		t.Errorf("plain program: %v %v", ok, err)
	}
	// A size that does not fit is an error, never a read out of bounds.
	for _, n := range []int64{0, int64(len(exe)) + 1, MaxMSI + 1, -1} {
		bad := append(append([]byte{}, exe...), Trailer(n)...)
		if _, _, ok, err := Find(bytes.NewReader(bad), int64(len(bad))); ok || err == nil {
			t.Errorf("size %d: ok %v, err %v", n, ok, err)
		}
	}
}

func FuzzFind(f *testing.F) {
	f.Add(append([]byte("xx"), Trailer(2)...))
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, b []byte) {
		off, size, ok, err := Find(bytes.NewReader(b), int64(len(b)))
		if ok && (err != nil || off < 0 || size <= 0 || off+size+TrailerSize != int64(len(b))) {
			t.Fatalf("off %d size %d of %d: %v", off, size, len(b), err)
		}
	})
}

func TestProperties(t *testing.T) {
	for _, tc := range []struct {
		args []string
		exe  string
		want []string
		fail string
	}{
		{[]string{"/S", "/NOSPLASH", "/SERVER=https://muster:8443/ocsinventory", "/NOW"}, "muster-agent_abcdefghij.exe",
			[]string{"SERVER=https://muster:8443/ocsinventory", "NOW=1", "ACTIVATION=ABCDEFGHIJ"}, ""},
		{[]string{`/D=C:\Tools\muster\`}, "muster-agent.exe", []string{`INSTALLDIR=C:\Tools\muster`}, ""},
		{nil, "setup.exe", nil, ""},
		{[]string{"/NO_SERVICE"}, "x.exe", nil, "install-service --no-service"},
		{[]string{"/TAG=paris"}, "x.exe", nil, "/TAG is not a setup switch"},
		{[]string{"/SERVER=ftp://x"}, "x.exe", nil, "http(s) URL"},
		{[]string{`/SERVER=http://x/" /qb BAD="1`}, "x.exe", nil, "without quotes"},
		{[]string{`/D=relative\dir`}, "x.exe", nil, "absolute"},
		{[]string{"agent", "run"}, "x.exe", nil, "not a setup switch"},
	} {
		got, err := Properties(tc.args, tc.exe)
		if tc.fail != "" {
			if err == nil || !strings.Contains(err.Error(), tc.fail) {
				t.Errorf("%q: %v, want an error with %q", tc.args, err, tc.fail)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q %s: %q, %v; want %q", tc.args, tc.exe, got, err, tc.want)
		}
	}
	line := CommandLine(`C:\t\m.msi`, `C:\t\l.log`, []string{"SERVER=http://s/o", `INSTALLDIR=C:\Program Files\m`})
	if want := `msiexec.exe /i "C:\t\m.msi" /qn /norestart /l*v "C:\t\l.log" SERVER="http://s/o" INSTALLDIR="C:\Program Files\m"`; line != want {
		t.Errorf("command line %s\nwant %s", line, want)
	}
}
