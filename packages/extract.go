package packages

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ErrUnsafe marks an archive entry that would land outside the target
// directory (absolute, "..", a link pointing out, a hard link).
var ErrUnsafe = errors.New("unsafe archive entry")

// safeName checks an entry name and returns it relative to the target.
func safeName(name string) (string, error) {
	n := strings.ReplaceAll(name, "\\", "/")
	if n == "" || strings.HasPrefix(n, "/") || (len(n) > 1 && n[1] == ':') {
		return "", fmt.Errorf("%w: %q is absolute", ErrUnsafe, name)
	}
	c := path.Clean(n)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%w: %q escapes the target", ErrUnsafe, name)
	}
	return filepath.FromSlash(c), nil
}

// link is a symbolic link, made once every file is written so that no
// entry is ever written through a link.
type link struct{ name, target string }

// checkLink refuses a link whose target leaves the target directory.
func checkLink(name, target string) error {
	if strings.HasPrefix(target, "/") || strings.Contains(target, "\\") {
		return fmt.Errorf("%w: link %q points to %q", ErrUnsafe, name, target)
	}
	joined := path.Clean(path.Join(path.Dir(filepath.ToSlash(name)), target))
	if joined == ".." || strings.HasPrefix(joined, "../") {
		return fmt.Errorf("%w: link %q points out to %q", ErrUnsafe, name, target)
	}
	return nil
}

// ErrTooLarge marks an archive that unpacks to more than its limit.
var ErrTooLarge = errors.New("archive unpacks to more than allowed")

// MaxEntries bounds the entries of an archive.
const MaxEntries = 100000

// sink writes the entries of one archive into dst through an os.Root, so
// no write, chmod or link ever leaves dst whatever links the tree holds,
// and counts what it writes against a budget.
type sink struct {
	root    *os.Root
	budget  int64
	entries int
	links   []link
}

// Extract unpacks archive (tar.gz or zip, told by its first bytes) into
// dst, which must exist, writing at most limit bytes. It rejects every
// entry that could land outside dst, and every link that resolves out of
// it, and writes nothing more once it finds one; callers unpack into a
// fresh directory and drop it on error.
func Extract(archive, dst string, limit int64) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	s := &sink{root: root, budget: limit}
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil {
		return fmt.Errorf("archive: too short to be tar.gz or zip")
	}
	switch {
	case magic[0] == 0x1f && magic[1] == 0x8b:
		f.Seek(0, io.SeekStart)
		err = s.tarGz(bufio.NewReader(f))
	case string(magic) == "PK\x03\x04":
		st, serr := f.Stat()
		if serr != nil {
			return serr
		}
		err = s.zip(f, st.Size())
	default:
		return fmt.Errorf("archive: neither tar.gz nor zip (starts % x)", magic)
	}
	if err != nil {
		return err
	}
	return s.makeLinks()
}

func (s *sink) entry(name string) error {
	if s.entries++; s.entries > MaxEntries {
		return fmt.Errorf("%w: more than %d entries", ErrTooLarge, MaxEntries)
	}
	return nil
}

func (s *sink) tarGz(r io.Reader) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		name, err := safeName(h.Name)
		if err != nil {
			return err
		}
		if err := s.entry(name); err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := s.root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("archive entry %s: %w", name, err)
			}
		case tar.TypeReg:
			if err := s.writeFile(name, tr, fs.FileMode(h.Mode)&0o777); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := checkLink(h.Name, h.Linkname); err != nil {
				return err
			}
			s.links = append(s.links, link{name, h.Linkname})
		case tar.TypeLink:
			return fmt.Errorf("%w: hard link %q", ErrUnsafe, h.Name)
		default:
			return fmt.Errorf("%w: %q is a device, FIFO or other special file", ErrUnsafe, h.Name)
		}
	}
}

func (s *sink) zip(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	for _, zf := range zr.File {
		name, err := safeName(zf.Name)
		if err != nil {
			return err
		}
		if err := s.entry(name); err != nil {
			return err
		}
		mode := zf.Mode()
		switch {
		case mode.IsDir():
			if err := s.root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("archive entry %s: %w", name, err)
			}
		case mode&fs.ModeSymlink != 0:
			rc, err := zf.Open()
			if err != nil {
				return fmt.Errorf("archive %s: %w", zf.Name, err)
			}
			target, err := io.ReadAll(io.LimitReader(rc, 4096))
			rc.Close()
			if err != nil {
				return err
			}
			if err := checkLink(zf.Name, string(target)); err != nil {
				return err
			}
			s.links = append(s.links, link{name, string(target)})
		case mode.IsRegular():
			rc, err := zf.Open()
			if err != nil {
				return fmt.Errorf("archive %s: %w", zf.Name, err)
			}
			perm := mode.Perm()
			if perm == 0 {
				perm = 0o644
			}
			err = s.writeFile(name, rc, perm)
			rc.Close()
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: %q is a special file", ErrUnsafe, zf.Name)
		}
	}
	return nil
}

// writeFile creates name exclusively: an entry never replaces another,
// nor follows a link out of the root; it stops at the budget.
func (s *sink) writeFile(name string, r io.Reader, perm fs.FileMode) error {
	if dir := filepath.Dir(name); dir != "." {
		if err := s.root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("archive entry %s: %w", name, err)
		}
	}
	f, err := s.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm|0o600)
	if err != nil {
		return fmt.Errorf("archive entry %s: %w", name, err)
	}
	n, err := io.Copy(f, io.LimitReader(r, s.budget+1))
	s.budget -= n
	if err == nil && s.budget < 0 {
		err = ErrTooLarge
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("archive entry %s: %w", name, err)
	}
	return nil
}

// makeLinks places the links once every file is written, then resolves
// each inside the root: a chain of links that leads out (each one fine on
// its own) is refused.
func (s *sink) makeLinks() error {
	for _, l := range s.links {
		// A link placed through another link would not be where its
		// target was checked from.
		prefix := ""
		for _, part := range strings.Split(filepath.Dir(l.name), string(filepath.Separator)) {
			prefix = filepath.Join(prefix, part)
			if fi, err := s.root.Lstat(prefix); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
				return fmt.Errorf("%w: link %q is placed through another link", ErrUnsafe, l.name)
			}
		}
		if dir := filepath.Dir(l.name); dir != "." {
			if err := s.root.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		if err := s.root.Symlink(l.target, l.name); err != nil {
			return fmt.Errorf("archive link %s: %w", l.name, err)
		}
	}
	return checkLinksInside(s.root, s.links)
}

// checkLinksInside resolves every link within root: one that leads out
// (directly or through others) is ErrUnsafe; a dangling one is allowed.
func checkLinksInside(root *os.Root, links []link) error {
	for _, l := range links {
		if _, err := root.Stat(l.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: link %q resolves out of the target (%v)", ErrUnsafe, l.name, err)
		}
	}
	return nil
}
