package packages

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The attacks of issue 13 on the package path, each refused with its
// ERR_ code, and nothing runs or lands outside.
func TestWorkerRefusesUnauthenticatedPackages(t *testing.T) {
	f := newFixture(t)
	marks := t.TempDir()
	pwned := filepath.Join(marks, "pwned")
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	cmd := BuildOptions{Action: "execute", Command: "touch " + pwned}
	build := func(o BuildOptions, sign ed25519.PrivateKey) *Info {
		o.Signer = sign
		i, err := Build(f.d, "", o)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	unsigned := build(cmd, nil)
	wrongKey := build(cmd, other)
	tampered := build(BuildOptions{Action: "execute", Command: "true"}, priv)
	// The command is swapped after signing, as an on-path party would.
	ti := *tampered
	ti.Command = "touch " + pwned
	os.WriteFile(filepath.Join(f.d.Path(tampered.ID), "info"), ti.Marshal(), 0o644)
	good := build(BuildOptions{Action: "execute", Command: "touch " + marks + "/good"}, priv)

	trusted := Trust{Verified: true, Hosts: []string{"127.0.0.1"}}
	pinned := trusted
	pinned.Key = pub
	for _, c := range []struct {
		name  string
		trust Trust
		info  *Info
		loc   string
		want  string
	}{
		{"the certificate is not checked", Trust{Verified: false, Hosts: []string{"127.0.0.1"}}, unsigned, "", ErrUntrustedInfo},
		{"info from another host", trusted, unsigned, "evil.example:443/download", ErrUntrustedInfo},
		{"a certificate the agent does not trust", trusted, good, "", ErrUntrustedInfo},
		{"no fragments, no digest, unsigned", trusted, unsigned, "", ErrNoDigest},
		{"pinned key, unsigned", pinned, unsigned, "", ErrUnsigned},
		{"pinned key, another key's signature", pinned, wrongKey, "", ErrBadSig},
		{"pinned key, command swapped after signing", pinned, tampered, "", ErrBadSig},
		{"pinned key, signed", pinned, good, "", Success},
	} {
		t.Run(c.name, func(t *testing.T) {
			reports := map[string]string{}
			w := f.worker(t, t.TempDir(), reports)
			w.Trust = c.trust
			if strings.HasPrefix(c.name, "a certificate") {
				w.HTTP = &http.Client{} // the system's roots: not the test server's
			}
			o := f.offer(c.info.ID)
			if c.loc != "" {
				o.InfoLoc = c.loc
			}
			res, err := w.Run(context.Background(), fast, []Offer{o})
			if err != nil || res[c.info.ID] != c.want || reports[c.info.ID] != c.want {
				t.Fatalf("result %v %v, reports %v; want %s", res, err, reports, c.want)
			}
			if _, err := os.Stat(pwned); err == nil {
				t.Fatal("an unauthenticated command ran")
			}
			if c.want != Success {
				b, _ := os.ReadFile(filepath.Join(w.Dir, "refused"))
				if !strings.Contains(string(b), c.info.ID+" "+c.want) {
					t.Errorf("refusal not journalled: %q", b)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(marks, "good")); err != nil {
		t.Error("the signed package did not run")
	}
}

// Fragments beyond the info's SIZE are refused (ERR_TOO_BIG): a server
// cannot make an agent download more than the package says.
func TestWorkerRefusesOversizeFragments(t *testing.T) {
	f := newFixture(t)
	info, err := Build(f.d, script(t, "true"), BuildOptions{Action: "execute", Command: "true", FragSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	small := *info
	small.Size = 1500 // the fragments hold more
	os.WriteFile(filepath.Join(f.d.Path(info.ID), "info"), small.Marshal(), 0o644)
	reports := map[string]string{}
	w := f.worker(t, t.TempDir(), reports)
	res, err := w.Run(context.Background(), fast, []Offer{f.offer(info.ID)})
	if err != nil || res[info.ID] != ErrTooBig {
		t.Fatalf("result %v %v, want %s", res, err, ErrTooBig)
	}
	// Nothing past SIZE was kept on disk.
	var total int64
	filepath.Walk(w.Dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && strings.Contains(fi.Name(), info.ID+"-") {
			total += fi.Size()
		}
		return nil
	})
	if total > small.Size+1 {
		t.Errorf("%d fragment bytes on disk, SIZE %d", total, small.Size)
	}
}

// zipArchive writes a zip of the given entries (name → link target when
// the name ends in "@", else file content).
func zipArchive(t *testing.T, entries [][2]string) string {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		name, body := e[0], e[1]
		h := &zip.FileHeader{Name: strings.TrimSuffix(name, "@"), Method: zip.Deflate}
		if strings.HasSuffix(name, "@") {
			h.SetMode(os.ModeSymlink | 0o777)
		} else {
			h.SetMode(0o644)
		}
		w, _ := zw.CreateHeader(h)
		w.Write([]byte(body))
	}
	zw.Close()
	p := filepath.Join(t.TempDir(), "a.zip")
	os.WriteFile(p, buf.Bytes(), 0o644)
	return p
}

// A chain of two links, each fine on its own (d/up → .., out → d/up/..),
// leads out of the target: refused in tar and in zip. A bomb that unpacks
// past the limit is refused too.
func TestExtractRefusesLinkChainsAndBombs(t *testing.T) {
	chainTar := evilArchive(t, tar.Header{Name: "d/", Typeflag: tar.TypeDir},
		tar.Header{Name: "d/up", Typeflag: tar.TypeSymlink, Linkname: ".."},
		tar.Header{Name: "out", Typeflag: tar.TypeSymlink, Linkname: "d/up/.."})
	chainZip := zipArchive(t, [][2]string{{"d/up@", ".."}, {"out@", "d/up/.."}})
	for name, a := range map[string]string{"tar": chainTar, "zip": chainZip} {
		dst := filepath.Join(t.TempDir(), "dst")
		os.Mkdir(dst, 0o755)
		if err := Extract(a, dst, 1<<20); !errors.Is(err, ErrUnsafe) {
			t.Errorf("%s link chain: %v, want ErrUnsafe", name, err)
		}
	}
	bomb := zipArchive(t, [][2]string{{"zeros", strings.Repeat("\x00", 4<<20)}})
	dst := t.TempDir()
	if err := Extract(bomb, dst, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Errorf("bomb: %v, want ErrTooLarge", err)
	}
	if st, err := os.Stat(filepath.Join(dst, "zeros")); err == nil && st.Size() > 1<<20+1 {
		t.Errorf("the bomb wrote %d bytes past the limit", st.Size())
	}
}

// STORE into a target that already holds a link to elsewhere writes
// nothing through that link.
func TestStoreDoesNotWriteThroughLinks(t *testing.T) {
	target, elsewhere := t.TempDir(), t.TempDir()
	os.Symlink(elsewhere, filepath.Join(target, "sub"))
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "sub", "x"), []byte("pwned"), 0o644)
	copyTree(src, target)
	if _, err := os.Stat(filepath.Join(elsewhere, "x")); err == nil {
		t.Fatal("STORE wrote through a link in the target")
	}
	// A plain store works.
	plain := t.TempDir()
	if err := copyTree(src, plain); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(plain, "sub", "x")); string(b) != "pwned" {
		t.Errorf("store: %q", b)
	}
}
