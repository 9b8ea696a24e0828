package packages

import (
	"archive/tar"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// BuildOptions shape a package.
type BuildOptions struct {
	Label    string
	Action   string // LAUNCH, EXECUTE or STORE
	Command  string // the file to run (LAUNCH), the command line (EXECUTE), or the target (STORE)
	Priority int
	// FragSize is the size of a fragment (default 1 MiB).
	FragSize int64
	Proto    string // HTTP or HTTPS (default HTTPS)
	Notify   Notify
	// Progress, if set, is told the archive bytes written so far.
	Progress func(written int64)
	// Now gives the package ID (a UNIX timestamp); default time.Now.
	Now func() time.Time
	// Signer, when set, signs the info (muster's agents check it).
	Signer ed25519.PrivateKey
}

// Build makes a package in d from src (a file or a directory; a .tar.gz,
// .tgz or .zip file is taken as the archive itself; anything else is put
// in a tar.gz), or from no source for a command-only EXECUTE package. The
// archive is streamed into fragments while both digests are computed, so
// a package of any size is never held in memory. Nothing is left behind
// on failure.
func Build(d Dir, src string, o BuildOptions) (*Info, error) {
	o.Action = strings.ToUpper(o.Action)
	switch o.Action {
	case Launch, Execute, Store:
	default:
		return nil, fmt.Errorf("action %q: want launch, execute or store", o.Action)
	}
	if o.Command == "" {
		return nil, fmt.Errorf("%s needs --command (%s)", strings.ToLower(o.Action),
			map[string]string{Launch: "the file to run", Execute: "the command line", Store: "the directory to copy to"}[o.Action])
	}
	if src == "" && o.Action != Execute {
		return nil, errors.New("only execute packages may have no file")
	}
	if o.Priority < 0 || o.Priority > 10 {
		return nil, fmt.Errorf("--priority %d: want 0 (first) to 10", o.Priority)
	}
	if o.FragSize <= 0 {
		o.FragSize = 1 << 20
	}
	if o.Proto == "" {
		o.Proto = "HTTPS"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return nil, err
	}
	// The ID is a UNIX timestamp; taken ones are skipped.
	id := o.Now().Unix()
	for ; ; id++ {
		if _, err := os.Stat(d.Path(strconv.FormatInt(id, 10))); errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	info := &Info{ID: strconv.FormatInt(id, 10), Priority: o.Priority, Action: o.Action, Proto: strings.ToUpper(o.Proto),
		Label: o.Label, Notify: o.Notify}
	switch o.Action {
	case Launch:
		info.Name = o.Command
	case Execute:
		info.Command = o.Command
	case Store:
		info.Path = o.Command
	}
	tmp := d.Path(info.ID) + ".tmp"
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if src != "" {
		fw := &fragmenter{dir: tmp, id: info.ID, size: o.FragSize, md5: md5.New(), sha: sha256.New(), progress: o.Progress}
		if err := writeArchive(fw, src); err != nil {
			return nil, fmt.Errorf("build from %s: %w", src, err)
		}
		if err := fw.close(); err != nil {
			return nil, err
		}
		info.Frags, info.Size = fw.n, fw.total
		info.Digest, info.SHA256 = hex.EncodeToString(fw.md5.Sum(nil)), hex.EncodeToString(fw.sha.Sum(nil))
	}
	if o.Signer != nil {
		info.Sign(o.Signer)
	}
	if err := os.WriteFile(filepath.Join(tmp, "info"), info.Marshal(), 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, d.Path(info.ID)); err != nil {
		return nil, err
	}
	ok = true
	return info, nil
}

// WriteArchive streams src as the package's archive to w: a .tar.gz, .tgz
// or .zip file as it is, anything else (a file, a directory) as a tar.gz.
// It is what Build fragments, and what a remote build uploads.
func WriteArchive(w io.Writer, src string) error { return writeArchive(w, src) }

// ArchiveKind names what WriteArchive writes for src: "zip" or "tar.gz".
func ArchiveKind(src string) string {
	if st, err := os.Stat(src); err == nil && !st.IsDir() && strings.HasSuffix(strings.ToLower(src), ".zip") {
		return "zip"
	}
	return "tar.gz"
}

// writeArchive streams src as an archive to w.
func writeArchive(w io.Writer, src string) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	lower := strings.ToLower(src)
	if !st.IsDir() && (strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz") || strings.HasSuffix(lower, ".zip")) {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	base := src
	if !st.IsDir() {
		base = filepath.Dir(src)
	}
	err = filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(base, p)
		if err != nil || rel == "." {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() && !fi.IsDir() {
			return nil // no symlinks or devices in a package
		}
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.IsDir() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// fragmenter cuts what is written into files ID-1, ID-2… of size bytes,
// hashing it on the way.
type fragmenter struct {
	dir, id  string
	size     int64
	md5, sha hash.Hash
	cur      *os.File
	curLen   int64
	n        int
	total    int64
	progress func(int64)
}

func (f *fragmenter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if f.cur == nil || f.curLen == f.size {
			if err := f.next(); err != nil {
				return written, err
			}
		}
		chunk := p[:min(int64(len(p)), f.size-f.curLen)]
		if _, err := f.cur.Write(chunk); err != nil {
			return written, err
		}
		f.md5.Write(chunk)
		f.sha.Write(chunk)
		f.curLen += int64(len(chunk))
		f.total += int64(len(chunk))
		written += len(chunk)
		p = p[len(chunk):]
		if f.progress != nil {
			f.progress(f.total)
		}
	}
	return written, nil
}

func (f *fragmenter) next() error {
	if f.cur != nil {
		if err := f.cur.Close(); err != nil {
			return err
		}
	}
	f.n++
	c, err := os.Create(filepath.Join(f.dir, FragmentName(f.id, f.n)))
	if err != nil {
		return err
	}
	f.cur, f.curLen = c, 0
	return nil
}

func (f *fragmenter) close() error {
	if f.cur == nil {
		return nil
	}
	return f.cur.Close()
}
