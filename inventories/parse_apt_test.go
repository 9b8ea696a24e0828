package inventories

import (
	"reflect"
	"testing"
)

func TestParseAptSources(t *testing.T) {
	list := `# comment
deb http://deb.debian.org/debian bookworm main contrib
deb-src http://deb.debian.org/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://repo.example/apt stable main # trailing
deb file:/srv/mirror ./
`
	want := []AptSource{
		{"http://deb.debian.org/debian", "bookworm", "main"},
		{"http://deb.debian.org/debian", "bookworm", "contrib"},
		{"https://repo.example/apt", "stable", "main"},
		{"file:/srv/mirror", "./", ""},
	}
	if got := ParseAptList(list); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseAptList = %+v", got)
	}
	deb822 := `Types: deb deb-src
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main

Types: deb
URIs: http://off.example/debian
Suites: x
Components: main
Enabled: no

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
 non-free-firmware
`
	want = []AptSource{
		{"http://deb.debian.org/debian", "bookworm", "main"},
		{"http://deb.debian.org/debian", "bookworm-updates", "main"},
		{"http://deb.debian.org/debian-security", "bookworm-security", "main"},
		{"http://deb.debian.org/debian-security", "bookworm-security", "non-free-firmware"},
	}
	if got := ParseDeb822Sources(deb822); !reflect.DeepEqual(got, want) {
		t.Errorf("ParseDeb822Sources = %+v", got)
	}
}
