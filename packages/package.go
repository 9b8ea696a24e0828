// Package packages builds, stores, fetches, verifies and runs deployment
// packages in OCS Inventory NG's format: an info file and fragments
// ID-1..n that stock OCS agents and muster's agent download, check against
// a digest (MD5 hex for stock agents, SHA-256 for muster's), rebuild and run,
// reporting a result code (SUCCESS, ERR_BAD_DIGEST, …).
package packages

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"muster/inventories/ocsxml"
)

// Actions of a package.
const (
	Launch  = "LAUNCH"  // run a file of the archive (Name)
	Execute = "EXECUTE" // run a command line (Command) in the unpacked archive
	Store   = "STORE"   // copy the archive's content to Path
)

// Info is a package's info file.
type Info struct {
	ID       string `json:"id"`
	Priority int    `json:"priority"`
	Action   string `json:"action"`
	// Name, Command or Path: the parameter of Launch, Execute or Store.
	Name    string `json:"name,omitempty"`
	Command string `json:"command,omitempty"`
	Path    string `json:"path,omitempty"`
	Frags   int    `json:"frags"`
	// Digest is the MD5 of the whole archive, lower-case hex: what stock
	// agents check. SHA256 is what muster's agent checks.
	Digest string `json:"md5"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Proto is HTTP or HTTPS: the scheme of the fragments.
	Proto string `json:"proto"`
	// Label is the name given at build (not in OCS's info; for lists).
	Label  string `json:"label,omitempty"`
	Notify Notify `json:"notify"`
	// Signature is the server's ed25519 signature (base64) over the
	// fields that decide what runs (see Sign); stock agents ignore it.
	Signature string `json:"signature,omitempty"`
}

// Notify is what a Windows agent tells the user (ignored by Unix agents).
type Notify struct {
	User      bool   `json:"user,omitempty"`
	Text      string `json:"text,omitempty"`
	Countdown int    `json:"countdown,omitempty"`
	CanAbort  bool   `json:"can_abort,omitempty"`
	CanDelay  bool   `json:"can_delay,omitempty"`
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Marshal renders the info file as the OCS console writes it (one
// DOWNLOAD element, attributes only; GARDEFOU is always "rien").
func (i *Info) Marshal() []byte {
	attrs := []ocsxml.Attr{{Name: "ID", Value: i.ID}, {Name: "PRI", Value: strconv.Itoa(i.Priority)}, {Name: "ACT", Value: i.Action},
		{Name: "DIGEST", Value: i.Digest}, {Name: "PROTO", Value: i.Proto}, {Name: "FRAGS", Value: strconv.Itoa(i.Frags)},
		{Name: "DIGEST_ALGO", Value: "MD5"}, {Name: "DIGEST_ENCODE", Value: "Hexa"}}
	switch i.Action {
	case Launch:
		attrs = append(attrs, ocsxml.Attr{Name: "NAME", Value: i.Name})
	case Execute:
		attrs = append(attrs, ocsxml.Attr{Name: "COMMAND", Value: i.Command})
	case Store:
		attrs = append(attrs, ocsxml.Attr{Name: "PATH", Value: i.Path})
	}
	attrs = append(attrs,
		ocsxml.Attr{Name: "NOTIFY_USER", Value: b01(i.Notify.User)}, ocsxml.Attr{Name: "NOTIFY_TEXT", Value: i.Notify.Text},
		ocsxml.Attr{Name: "NOTIFY_COUNTDOWN", Value: strconv.Itoa(i.Notify.Countdown)},
		ocsxml.Attr{Name: "NOTIFY_CAN_ABORT", Value: b01(i.Notify.CanAbort)}, ocsxml.Attr{Name: "NOTIFY_CAN_DELAY", Value: b01(i.Notify.CanDelay)},
		ocsxml.Attr{Name: "NEED_DONE_ACTION", Value: "0"}, ocsxml.Attr{Name: "NEED_DONE_ACTION_TEXT", Value: ""},
		ocsxml.Attr{Name: "GARDEFOU", Value: "rien"},
		// Beyond OCS's attributes (stock agents ignore them): muster's
		// agent checks SHA-256, and lists show the size and label.
		ocsxml.Attr{Name: "SHA256", Value: i.SHA256}, ocsxml.Attr{Name: "SIZE", Value: strconv.FormatInt(i.Size, 10)},
		ocsxml.Attr{Name: "LABEL", Value: i.Label})
	if i.Signature != "" {
		attrs = append(attrs, ocsxml.Attr{Name: "SIGNATURE", Value: i.Signature})
	}
	return ocsxml.Marshal(ocsxml.RequestDecl, &ocsxml.Node{Name: "DOWNLOAD", Attrs: attrs})
}

// ParseInfo reads an info file; errors say what is wrong with it.
func ParseInfo(data []byte) (*Info, error) {
	n, err := ocsxml.Parse(data, ocsxml.Limits{MaxDepth: 4, MaxElements: 100})
	if err != nil {
		return nil, fmt.Errorf("info: %w", err)
	}
	if n.Name != "DOWNLOAD" {
		return nil, fmt.Errorf("info: root element is <%s>, want <DOWNLOAD>", n.Name)
	}
	i := &Info{ID: n.Raw("ID"), Action: strings.ToUpper(n.Raw("ACT")), Name: n.Raw("NAME"), Command: n.Raw("COMMAND"),
		Path: n.Raw("PATH"), Digest: strings.ToLower(n.Raw("DIGEST")), SHA256: strings.ToLower(n.Raw("SHA256")),
		Proto: strings.ToUpper(n.Raw("PROTO")), Label: n.Raw("LABEL"), Signature: n.Raw("SIGNATURE")}
	if i.ID == "" || strings.ContainsAny(i.ID, "/\\.") {
		return nil, fmt.Errorf("info: ID %q is missing or not a plain name", i.ID)
	}
	if i.Frags, err = strconv.Atoi(n.Raw("FRAGS")); err != nil || i.Frags < 0 || i.Frags > 100000 {
		return nil, fmt.Errorf("info: FRAGS %q is not a fragment count", n.Raw("FRAGS"))
	}
	if p := n.Raw("PRI"); p != "" {
		if i.Priority, err = strconv.Atoi(p); err != nil || i.Priority < 0 || i.Priority > 10 {
			return nil, fmt.Errorf("info: PRI %q is not 0-10", p)
		}
	}
	if s := n.Raw("SIZE"); s != "" {
		if i.Size, err = strconv.ParseInt(s, 10, 64); err != nil || i.Size < 0 {
			return nil, fmt.Errorf("info: SIZE %q is not a byte count", s)
		}
	}
	switch i.Action {
	case Launch, Execute, Store:
	default:
		return nil, fmt.Errorf("info: ACT %q is not LAUNCH, EXECUTE or STORE", i.Action)
	}
	if algo := strings.ToUpper(n.Raw("DIGEST_ALGO")); algo != "" && algo != "MD5" {
		return nil, fmt.Errorf("info: DIGEST_ALGO %q: only MD5 (Hexa) is portable to every agent", algo)
	}
	if i.Frags > 0 && len(i.Digest) != 32 && len(i.SHA256) != 64 {
		return nil, errors.New("info: no digest for the fragments")
	}
	return i, nil
}

// Dir is a package store: one directory per package ID holding info and
// the fragments ID-1..n, as OCS's download/ tree.
type Dir string

// Path returns the directory of package id.
func (d Dir) Path(id string) string { return filepath.Join(string(d), id) }

// ErrNoPackage is returned (wrapped) for a package id the directory does
// not hold, or that cannot be one.
var ErrNoPackage = errors.New("no such package")

// Load reads package id's info.
func (d Dir) Load(id string) (*Info, error) {
	if strings.ContainsAny(id, "/\\") || id == "" || id == "." || id == ".." {
		return nil, fmt.Errorf("package id %q: not a package id (%w)", id, ErrNoPackage)
	}
	b, err := os.ReadFile(filepath.Join(d.Path(id), "info"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no package %s in %s (%w)", id, d, ErrNoPackage)
	}
	if err != nil {
		return nil, err
	}
	return ParseInfo(b)
}

// List returns every package, oldest first.
func (d Dir) List() ([]*Info, error) {
	entries, err := os.ReadDir(string(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Info
	for _, e := range entries {
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		if i, err := d.Load(e.Name()); err == nil {
			out = append(out, i)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out, nil
}

// Delete removes package id from the store.
func (d Dir) Delete(id string) error {
	if _, err := d.Load(id); err != nil {
		return err
	}
	return os.RemoveAll(d.Path(id))
}

// FragmentName is fragment n of package id: ID-n.
func FragmentName(id string, n int) string { return fmt.Sprintf("%s-%d", id, n) }
