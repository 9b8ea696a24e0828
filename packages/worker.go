package packages

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Result codes an agent reports (QUERY=DOWNLOAD, ERR=…), as OCS agents do.
const (
	Success             = "SUCCESS"
	SuccessAlreadySetup = "SUCCESS_ALREADY_SETUP"
	ErrBadID            = "ERR_BAD_ID"
	ErrDownloadInfo     = "ERR_DOWNLOAD_INFO"
	ErrDownloadPack     = "ERR_DOWNLOAD_PACK"
	ErrBadDigest        = "ERR_BAD_DIGEST"
	ErrBuild            = "ERR_BUILD"
	ErrExecute          = "ERR_EXECUTE"
	ErrExecuteTimeout   = "ERR_EXECUTE_TIMEOUT"
	ErrTimeout          = "ERR_TIMEOUT"
)

// Offer is a package a PROLOG reply offers (a PACK param).
type Offer struct {
	ID, InfoLoc, PackLoc string
	Force                bool
}

// Conf is the worker's pacing (the CONF param), defaults as OCS agents.
type Conf struct {
	On                                       bool
	FragLatency, CycleLatency, PeriodLatency time.Duration
	PeriodLength                             int
	// Timeout: a package not done this long after it was first offered
	// ends with ERR_TIMEOUT.
	Timeout time.Duration
	// ExecTimeout bounds the action.
	ExecTimeout time.Duration
}

// Worker downloads, verifies and runs packages for an agent. Its state
// lives in Dir: history (one ID a line) and one directory per package
// in progress, so an interrupted download resumes where it stopped.
type Worker struct {
	Dir       string
	HTTP      *http.Client
	UserAgent string
	// Trust is what a package must show to run; info files always come
	// over HTTPS.
	Trust Trust
	// Report sends a result to the server; a package whose result could
	// not be sent is kept and reported on the next run.
	Report func(ctx context.Context, id, code string) error
	Log    *slog.Logger
	Now    func() time.Time
}

// History returns the IDs of the packages run on this machine.
func (w *Worker) History() []string {
	f, err := os.Open(filepath.Join(w.Dir, "history"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			out = append(out, id)
		}
	}
	return out
}

func (w *Worker) inHistory(id string) bool {
	for _, h := range w.History() {
		if h == id {
			return true
		}
	}
	return false
}

// job is a package in progress.
type job struct {
	offer Offer
	dir   string
	info  *Info
	since time.Time
	next  int   // next fragment to fetch, 1-based
	have  int64 // bytes of the fragments fetched
}

// Run processes offers until each has a result, ctx ends, or a period of
// cycles in a row fails (the packages then resume at the next run): in cycles
// as OCS agents do (priority 0 first and alone; then a package of
// priority p in every p-th cycle), one step (a fragment, or the build and
// the action) per package per cycle, sleeping FragLatency after each
// step, CycleLatency after each cycle, PeriodLatency after PeriodLength
// cycles. It returns the results by package ID.
func (w *Worker) Run(ctx context.Context, conf Conf, offers []Offer) (map[string]string, error) {
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
	if conf.PeriodLength <= 0 {
		conf.PeriodLength = 10
	}
	if conf.Timeout <= 0 {
		conf.Timeout = 7 * 24 * time.Hour
	}
	if conf.ExecTimeout <= 0 {
		conf.ExecTimeout = 120 * time.Minute
	}
	results := map[string]string{}
	if err := os.MkdirAll(w.Dir, 0o700); err != nil {
		return results, err
	}
	w.resendPending(ctx, results)
	var jobs []*job
	for _, o := range offers {
		if !validID(o.ID) {
			w.Log.Warn("package offer with a bad id ignored", "id", o.ID)
			continue
		}
		if _, done := results[o.ID]; done {
			continue
		}
		if w.inHistory(o.ID) && !o.Force {
			w.finish(ctx, &job{offer: o, dir: filepath.Join(w.Dir, o.ID)}, SuccessAlreadySetup, results)
			continue
		}
		j, err := w.open(o)
		if err != nil {
			return results, err
		}
		jobs = append(jobs, j)
	}
	// failures counts the cycles in a row where every attempt failed (the
	// server or the CDN away): after a period of them the run stops, and
	// the packages resume at the next run, where they are offered again.
	failures := 0
	for cycle := 1; len(jobs) > 0; cycle++ {
		attempted, progressed := false, false
		for _, j := range jobs {
			if w.Now().Sub(j.since) > conf.Timeout {
				w.finish(ctx, j, ErrTimeout, results)
			}
		}
		jobs = pending(jobs, results)
		// The info first: its priority decides the cycles.
		for _, j := range jobs {
			if j.info == nil {
				attempted = true
				code := w.fetchInfo(ctx, j)
				progressed = progressed || code != "" || j.info != nil
				if code != "" {
					w.finish(ctx, j, code, results)
				}
			}
		}
		jobs = pending(jobs, results)
		zero := false
		for _, j := range jobs {
			zero = zero || (j.info != nil && j.info.Priority == 0)
		}
		for _, j := range jobs {
			if j.info == nil {
				continue
			}
			if p := j.info.Priority; (zero && p != 0) || (!zero && p > 0 && cycle%p != 0) {
				continue
			}
			attempted = true
			before := j.next
			code := w.step(ctx, j, conf)
			progressed = progressed || code != "" || j.next != before
			if code != "" {
				w.finish(ctx, j, code, results)
				continue
			}
			if !sleep(ctx, conf.FragLatency) {
				return results, ctx.Err()
			}
		}
		jobs = pending(jobs, results)
		if len(jobs) == 0 {
			break
		}
		switch {
		case progressed:
			failures = 0
		case attempted:
			failures++
		}
		if failures >= conf.PeriodLength {
			w.Log.Warn("packages: no progress for a period; they resume at the next run", "pending", len(jobs))
			break
		}
		if !sleep(ctx, conf.CycleLatency) {
			return results, ctx.Err()
		}
		if cycle%conf.PeriodLength == 0 && !sleep(ctx, conf.PeriodLatency) {
			return results, ctx.Err()
		}
	}
	// Results that could not be sent while the server was away.
	w.resendPending(ctx, results)
	return results, nil
}

func pending(jobs []*job, results map[string]string) []*job {
	out := jobs[:0]
	for _, j := range jobs {
		if _, done := results[j.offer.ID]; !done {
			out = append(out, j)
		}
	}
	return out
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func validID(id string) bool {
	return id != "" && strings.Trim(id, "0123456789") == "" && len(id) <= 20
}

// open makes or resumes a package's directory.
func (w *Worker) open(o Offer) (*job, error) {
	j := &job{offer: o, dir: filepath.Join(w.Dir, o.ID), next: 1}
	if err := os.MkdirAll(j.dir, 0o700); err != nil {
		return nil, err
	}
	sincePath := filepath.Join(j.dir, "since")
	if b, err := os.ReadFile(sincePath); err == nil {
		if sec, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
			j.since = time.Unix(sec, 0)
		}
	}
	if j.since.IsZero() {
		j.since = w.Now()
		if err := os.WriteFile(sincePath, []byte(strconv.FormatInt(j.since.Unix(), 10)), 0o600); err != nil {
			return nil, err
		}
	}
	if b, err := os.ReadFile(filepath.Join(j.dir, "info")); err == nil {
		// Admitted when fetched; checked again, as the pinned key may
		// have changed since.
		if info, err := ParseInfo(b); err == nil && info.ID == o.ID {
			if code, _ := w.Trust.admit(info); code == "" {
				j.info = info
			}
		}
	}
	for j.info != nil && j.next <= j.info.Frags {
		st, err := os.Stat(filepath.Join(j.dir, FragmentName(o.ID, j.next)))
		if err != nil {
			break
		}
		j.have += st.Size()
		j.next++
	}
	return j, nil
}

// httpStatus is a reply that was not what was asked for.
type httpStatus int

func (s httpStatus) Error() string { return fmt.Sprintf("HTTP %d %s", int(s), http.StatusText(int(s))) }

// permanent says a failed fetch will not get better by retrying.
func permanent(err error) bool {
	var s httpStatus
	return errors.As(err, &s) && (s == 404 || s == 410 || s == 403 || s == 401)
}

// fetchInfo gets the info file; it returns a result code when the
// package ends there, "" when it goes on (or will retry).
func (w *Worker) fetchInfo(ctx context.Context, j *job) string {
	if err := w.Trust.infoSource(j.offer.InfoLoc); err != nil {
		w.refused(j.offer.ID, ErrUntrustedInfo, err)
		return ErrUntrustedInfo
	}
	url := "https://" + strings.TrimSuffix(j.offer.InfoLoc, "/") + "/" + j.offer.ID + "/info"
	tmp := filepath.Join(j.dir, "info.part")
	os.Remove(tmp)
	if err := w.get(ctx, url, tmp, 1<<20); err != nil {
		if untrustedTLS(err) {
			w.refused(j.offer.ID, ErrUntrustedInfo, fmt.Errorf("%s: %w", url, err))
			return ErrUntrustedInfo
		}
		if permanent(err) {
			w.Log.Warn("package info", "id", j.offer.ID, "url", url, "err", err)
			return ErrDownloadInfo
		}
		w.Log.Info("package info: will retry", "id", j.offer.ID, "url", url, "err", err)
		return ""
	}
	b, _ := os.ReadFile(tmp)
	info, err := ParseInfo(b)
	if err != nil {
		w.Log.Warn("package info does not parse", "id", j.offer.ID, "url", url, "err", err)
		return ErrDownloadInfo
	}
	if info.ID != j.offer.ID {
		w.Log.Warn("package info is another package's", "id", j.offer.ID, "info_id", info.ID)
		return ErrBadID
	}
	if code, err := w.Trust.admit(info); code != "" {
		w.refused(j.offer.ID, code, err)
		return code
	}
	if err := os.Rename(tmp, filepath.Join(j.dir, "info")); err != nil {
		return ErrDownloadInfo
	}
	j.info = info
	return ""
}

// step fetches the next fragment, or builds and runs the package.
func (w *Worker) step(ctx context.Context, j *job, conf Conf) string {
	id := j.offer.ID
	if j.next <= j.info.Frags {
		name := FragmentName(id, j.next)
		scheme := strings.ToLower(j.info.Proto)
		if scheme != "http" {
			scheme = "https"
		}
		url := scheme + "://" + strings.TrimSuffix(j.offer.PackLoc, "/") + "/" + id + "/" + name
		part := filepath.Join(j.dir, name+".part")
		room := j.info.sizeCap() - j.have
		if room <= 0 {
			w.refused(id, ErrTooBig, fmt.Errorf("fragment %d of %d lies beyond the package's SIZE %d", j.next, j.info.Frags, j.info.sizeCap()))
			return ErrTooBig
		}
		if err := w.get(ctx, url, part, room); err != nil {
			if errors.Is(err, errTooBig) {
				w.refused(id, ErrTooBig, fmt.Errorf("fragment %d: more than the %d bytes left of the package's SIZE %d", j.next, room, j.info.sizeCap()))
				return ErrTooBig
			}
			if permanent(err) {
				w.Log.Warn("package fragment missing", "id", id, "url", url, "err", err)
				return ErrDownloadPack
			}
			w.Log.Info("package fragment: will resume", "id", id, "url", url, "err", err)
			return ""
		}
		st, err := os.Stat(part)
		if err != nil || os.Rename(part, filepath.Join(j.dir, name)) != nil {
			return ErrBuild
		}
		j.have += st.Size()
		j.next++
		return ""
	}
	return w.buildAndRun(ctx, j, conf)
}

// Download fetches url into path as the worker fetches fragments: a
// partial file is resumed with a Range request.
func (w *Worker) Download(ctx context.Context, url, path string) error {
	return w.get(ctx, url, path, 0)
}

// errTooBig: a download went past its limit.
var errTooBig = errors.New("more bytes than allowed")

// get fetches url into path, resuming what path already holds (Range).
// limit > 0 bounds the size of the whole file: more is errTooBig.
func (w *Worker) get(ctx context.Context, url, path string, limit int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	if w.UserAgent != "" {
		req.Header.Set("User-Agent", w.UserAgent)
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := w.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		return nil // the file was whole already
	case resp.StatusCode == http.StatusOK:
		have = 0
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			if err := f.Truncate(0); err != nil {
				return err
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
		}
	default:
		return httpStatus(resp.StatusCode)
	}
	var body io.Reader = resp.Body
	if limit > 0 {
		// One byte more than allowed tells a file that is too big.
		body = io.LimitReader(resp.Body, limit-have+1)
	}
	n, err := io.Copy(f, body)
	if err != nil {
		return err
	}
	if limit > 0 && have+n > limit {
		return errTooBig
	}
	if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
		return nil
	}
	return f.Sync()
}

// buildAndRun joins the fragments while checking the digest, unpacks the
// archive into a fresh directory and runs the action there.
func (w *Worker) buildAndRun(ctx context.Context, j *job, conf Conf) string {
	id, info := j.offer.ID, j.info
	work := filepath.Join(j.dir, "tmp")
	os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o700); err != nil {
		return ErrBuild
	}
	if info.Frags > 0 {
		archive := filepath.Join(j.dir, "build")
		if code := joinFragments(j.dir, id, info, archive); code != "" {
			w.Log.Warn("package build", "id", id, "result", code)
			return code
		}
		if err := Extract(archive, work, info.unpackCap()); err != nil {
			os.RemoveAll(work)
			if errors.Is(err, ErrTooLarge) {
				w.refused(id, ErrTooBig, err)
				return ErrTooBig
			}
			w.Log.Warn("package unpack", "id", id, "err", err)
			return ErrBuild
		}
	}
	return w.execute(ctx, j, work, conf.ExecTimeout)
}

// joinFragments streams the fragments into archive, checking SHA-256
// when the info has it, MD5 otherwise.
func joinFragments(dir, id string, info *Info, archive string) string {
	out, err := os.Create(archive)
	if err != nil {
		return ErrBuild
	}
	defer out.Close()
	m, s := md5.New(), sha256.New()
	dst := io.MultiWriter(out, m, s)
	for n := 1; n <= info.Frags; n++ {
		f, err := os.Open(filepath.Join(dir, FragmentName(id, n)))
		if err != nil {
			return ErrBuild
		}
		_, err = io.Copy(dst, f)
		f.Close()
		if err != nil {
			return ErrBuild
		}
	}
	if info.SHA256 != "" {
		if hex.EncodeToString(s.Sum(nil)) != info.SHA256 {
			return ErrBadDigest
		}
	} else if hex.EncodeToString(m.Sum(nil)) != info.Digest {
		return ErrBadDigest
	}
	if err := out.Close(); err != nil {
		return ErrBuild
	}
	return ""
}

// execute runs the action in work with a timeout.
func (w *Worker) execute(ctx context.Context, j *job, work string, timeout time.Duration) string {
	info := j.info
	switch info.Action {
	case Store:
		target := info.Path
		if target == "" || !filepath.IsAbs(target) {
			w.Log.Warn("package store: the target is not an absolute path", "id", info.ID, "path", target)
			return ErrExecute
		}
		if err := copyTree(work, target); err != nil {
			w.Log.Warn("package store", "id", info.ID, "path", target, "err", err)
			return ErrExecute
		}
		return Success
	case Launch, Execute:
	default:
		return ErrExecute
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var cmd *exec.Cmd
	if info.Action == Launch {
		fields := strings.Fields(info.Name)
		if len(fields) == 0 {
			return ErrExecute
		}
		file, err := safeName(fields[0])
		if err != nil {
			return ErrExecute
		}
		// The file is made executable, and run, only where it resolves
		// inside the unpacked tree.
		root, err := os.OpenRoot(work)
		if err != nil {
			return ErrExecute
		}
		st, err := root.Stat(file)
		if err == nil && st.Mode().IsRegular() {
			err = root.Chmod(file, 0o755)
		} else if err == nil {
			err = fmt.Errorf("%s is not a regular file", file)
		}
		root.Close()
		if err != nil {
			w.Log.Warn("package launch: the file to run", "id", info.ID, "name", file, "err", err)
			return ErrExecute
		}
		cmd = exec.CommandContext(cctx, filepath.Join(work, file), fields[1:]...)
	} else if runtime.GOOS == "windows" {
		cmd = exec.CommandContext(cctx, "cmd", "/C", info.Command)
	} else {
		cmd = exec.CommandContext(cctx, "/bin/sh", "-c", info.Command)
	}
	cmd.Dir = work
	ownGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case cctx.Err() == context.DeadlineExceeded:
		w.Log.Warn("package action timed out", "id", info.ID, "timeout", timeout)
		return ErrExecuteTimeout
	case errors.As(err, &ee):
		w.Log.Warn("package action failed", "id", info.ID, "exit", ee.ExitCode(), "output", tail(out))
		if info.Action == Launch {
			return fmt.Sprintf("EXIT_CODE_%d", ee.ExitCode())
		}
		return ErrExecute
	case err != nil:
		w.Log.Warn("package action could not run", "id", info.ID, "err", err)
		return ErrExecute
	}
	w.Log.Info("package ran", "id", info.ID, "action", strings.ToLower(info.Action), "output", tail(out))
	return Success
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// copyTree copies src's content into dst (STORE) through an os.Root of
// dst: nothing is written through a link that leads out of dst, whatever
// dst held before; the package's own links are placed as links and must
// resolve inside dst.
func copyTree(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	var links []link
	err = filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		switch {
		case rel == ".":
			return nil
		case fi.IsDir():
			return root.MkdirAll(rel, 0o755)
		case fi.Mode()&os.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := root.Remove(rel); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			links = append(links, link{rel, l})
			return root.Symlink(l, rel)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		// An old link in the way is replaced, never written through.
		if st, err := root.Lstat(rel); err == nil && st.Mode()&os.ModeSymlink != 0 {
			if err := root.Remove(rel); err != nil {
				return err
			}
		}
		out, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		return err
	}
	return checkLinksInside(root, links)
}

// finish records a result: history (successes only: a failed package
// may be assigned again without force), the report, then the package's
// directory goes. If the report fails the result is kept for next run.
func (w *Worker) finish(ctx context.Context, j *job, code string, results map[string]string) {
	results[j.offer.ID] = code
	if strings.HasPrefix(code, "SUCCESS") && code != SuccessAlreadySetup {
		if f, err := os.OpenFile(filepath.Join(w.Dir, "history"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
			fmt.Fprintln(f, j.offer.ID)
			f.Sync()
			f.Close()
		}
	}
	w.Log.Info("package result", "id", j.offer.ID, "result", code)
	if w.Report != nil {
		if err := w.Report(ctx, j.offer.ID, code); err != nil {
			w.Log.Warn("package result not delivered; kept for the next run", "id", j.offer.ID, "err", err)
			os.MkdirAll(j.dir, 0o700)
			os.WriteFile(filepath.Join(j.dir, "result"), []byte(code), 0o600)
			return
		}
	}
	os.RemoveAll(j.dir)
}

// resendPending reports the results a previous run could not deliver.
func (w *Worker) resendPending(ctx context.Context, results map[string]string) {
	entries, _ := os.ReadDir(w.Dir)
	var ids []string
	for _, e := range entries {
		if e.IsDir() && validID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		b, err := os.ReadFile(filepath.Join(w.Dir, id, "result"))
		if err != nil {
			continue
		}
		code := strings.TrimSpace(string(b))
		if w.Report == nil || w.Report(ctx, id, code) == nil {
			results[id] = code
			os.RemoveAll(filepath.Join(w.Dir, id))
		}
	}
}
