package agent

import "testing"

func TestSystemPathEdits(t *testing.T) {
	dir := `C:\Program Files\muster\`
	for _, tc := range []struct {
		in, added, removed string
	}{
		{`C:\Windows\system32;C:\Windows`, `C:\Windows\system32;C:\Windows;` + dir, `C:\Windows\system32;C:\Windows`},
		{`C:\Windows;c:\program files\MUSTER`, `C:\Windows;c:\program files\MUSTER`, `C:\Windows`},
		{``, dir, ``},
		{`C:\Windows;`, `C:\Windows;` + dir, `C:\Windows`},
		{`C:\Program Files\muster2;C:\Windows`, `C:\Program Files\muster2;C:\Windows;` + dir, `C:\Program Files\muster2;C:\Windows`},
	} {
		if got, _ := pathWith(tc.in, dir); got != tc.added {
			t.Errorf("add to %q: %q, want %q", tc.in, got, tc.added)
		}
		if got, _ := pathWithout(tc.added, dir); got != tc.removed {
			t.Errorf("remove from %q: %q, want %q", tc.added, got, tc.removed)
		}
	}
}
