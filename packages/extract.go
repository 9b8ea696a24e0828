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

// Extract unpacks archive (tar.gz or zip, told by its first bytes) into
// dst, which must exist. It rejects every entry that could land outside
// dst and writes nothing more once it finds one; callers unpack into a
// fresh directory and drop it on error.
func Extract(archive, dst string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil {
		return fmt.Errorf("archive: too short to be tar.gz or zip")
	}
	switch {
	case magic[0] == 0x1f && magic[1] == 0x8b:
		f.Seek(0, io.SeekStart)
		return extractTarGz(bufio.NewReader(f), dst)
	case string(magic) == "PK\x03\x04":
		st, err := f.Stat()
		if err != nil {
			return err
		}
		return extractZip(f, st.Size(), dst)
	}
	return fmt.Errorf("archive: neither tar.gz nor zip (starts % x)", magic)
}

func extractTarGz(r io.Reader, dst string) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	tr := tar.NewReader(gz)
	var links []link
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		name, err := safeName(h.Name)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(filepath.Join(dst, name), 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(dst, name, tr, fs.FileMode(h.Mode)&0o777); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := checkLink(h.Name, h.Linkname); err != nil {
				return err
			}
			links = append(links, link{name, h.Linkname})
		case tar.TypeLink:
			return fmt.Errorf("%w: hard link %q", ErrUnsafe, h.Name)
		default:
			return fmt.Errorf("%w: %q is a device, FIFO or other special file", ErrUnsafe, h.Name)
		}
	}
	return makeLinks(dst, links)
}

func extractZip(r io.ReaderAt, size int64, dst string) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	var links []link
	for _, zf := range zr.File {
		name, err := safeName(zf.Name)
		if err != nil {
			return err
		}
		mode := zf.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(filepath.Join(dst, name), 0o755); err != nil {
				return err
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
			links = append(links, link{name, string(target)})
		case mode.IsRegular():
			rc, err := zf.Open()
			if err != nil {
				return fmt.Errorf("archive %s: %w", zf.Name, err)
			}
			perm := mode.Perm()
			if perm == 0 {
				perm = 0o644
			}
			err = writeFile(dst, name, rc, perm)
			rc.Close()
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: %q is a special file", ErrUnsafe, zf.Name)
		}
	}
	return makeLinks(dst, links)
}

// writeFile creates dst/name exclusively: an entry never replaces
// another, nor follows a link.
func writeFile(dst, name string, r io.Reader, perm fs.FileMode) error {
	p := filepath.Join(dst, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm|0o600)
	if err != nil {
		return fmt.Errorf("archive entry %s: %w", name, err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("archive entry %s: %w", name, err)
	}
	return f.Close()
}

func makeLinks(dst string, links []link) error {
	realDst, err := filepath.EvalSymlinks(dst)
	if err != nil {
		return err
	}
	for _, l := range links {
		// A link placed through another link would not be where its
		// target was checked from.
		prefix := realDst
		for _, part := range strings.Split(filepath.Dir(l.name), string(filepath.Separator)) {
			prefix = filepath.Join(prefix, part)
			if fi, err := os.Lstat(prefix); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
				return fmt.Errorf("%w: link %q is placed through another link", ErrUnsafe, l.name)
			}
		}
		p := filepath.Join(realDst, l.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(l.target, p); err != nil {
			return fmt.Errorf("archive link %s: %w", l.name, err)
		}
	}
	return nil
}
