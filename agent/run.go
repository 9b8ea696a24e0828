package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"muster/inventories"
	"muster/inventories/ocsxml"
	"muster/packages"
)

// Agent is one agent run's settings.
type Agent struct {
	// Client talks to the server; nil in local mode.
	Client  *Client
	WorkDir string
	// Tag is the TAG given at the first inventory (--tag); later the
	// server's value wins, as with the OCS agent. NoTag sends none.
	Tag   string
	NoTag bool
	// NewID makes a new DEVICEID (--uid).
	NewID bool
	// Collect gathers the inventory (default: every registered collector).
	Collect func(ctx context.Context) *inventories.Inventory
	// Scan runs IPDISCOVER when an elected agent is asked to (default
	// ScanNetwork).
	Scan ScanFunc
	// Hostname and Now are the machine's name and clock (tests set them).
	Hostname func() (string, error)
	Now      func() time.Time
	Log      *slog.Logger
	// NoDownload leaves the packages the server offers alone.
	NoDownload bool
	// PackageKey is the server's package-signing key given at install
	// (base64); it wins over the one pinned at activation.
	PackageKey string
	// PackageHosts are hosts, beside the server's, that may serve package
	// info files.
	PackageHosts []string
}

func (a *Agent) defaults() {
	if a.Collect == nil {
		a.Collect = func(ctx context.Context) *inventories.Inventory {
			inv, _ := inventories.CollectAll(ctx, a.Log)
			return inv
		}
	}
	if a.Hostname == nil {
		a.Hostname = os.Hostname
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	if a.Log == nil {
		a.Log = slog.Default()
	}
	if a.Scan == nil {
		a.Scan = ScanNetwork
	}
}

// Result says what a run did.
type Result struct {
	DeviceID string `json:"deviceid"`
	// Response is the server's PROLOG answer (SEND or STOP), empty when
	// forced.
	Response   string `json:"response,omitempty"`
	PrologFreq int    `json:"prolog_freq,omitempty"`
	// Sent is set when an inventory went to the server.
	Sent     bool   `json:"sent"`
	Checksum uint32 `json:"checksum,omitempty"`
	// AccountUpdate is set when the server sent its account info.
	AccountUpdate bool `json:"account_update,omitempty"`
	// Scanned is the network scanned for IPDISCOVER, if asked.
	Scanned string `json:"ipdiscover,omitempty"`
	// Packages are the results of the packages the server offered.
	Packages map[string]string `json:"packages,omitempty"`
	// File is the .ocs or .xml written in local mode.
	File string `json:"file,omitempty"`
}

// identity loads the state and makes sure it has a DEVICEID.
func (a *Agent) identity() (*State, error) {
	st, err := LoadState(a.WorkDir)
	if err != nil {
		return nil, err
	}
	host, err := a.Hostname()
	if err != nil {
		return nil, fmt.Errorf("host name: %w", err)
	}
	if st.EnsureDeviceID(host, a.Now(), a.NewID) {
		a.Log.Info("new device id", "deviceid", st.DeviceID)
		if err := st.Save(a.WorkDir); err != nil {
			return nil, fmt.Errorf("save state: %w", err)
		}
	}
	return st, nil
}

// inventory collects and dresses the inventory the way a server expects.
func (a *Agent) inventory(ctx context.Context, st *State) *inventories.Inventory {
	inv := a.Collect(ctx)
	switch {
	case len(st.AccountInfo) > 0:
		for _, kv := range st.AccountInfo {
			inv.AccountInfo = append(inv.AccountInfo, inventories.AccountInfo{KeyName: kv.Key, KeyValue: kv.Value})
		}
	case a.Tag != "" && !a.NoTag:
		inv.AccountInfo = []inventories.AccountInfo{{KeyName: "TAG", KeyValue: a.Tag}}
	}
	inv.DownloadHistory = (&packages.Worker{Dir: a.downloadDir()}).History()
	inv.OldDeviceID = st.OldDeviceID
	return inv
}

// Run makes one PROLOG → INVENTORY cycle. With force the PROLOG is skipped
// and the inventory sent whatever the server would say.
func (a *Agent) Run(ctx context.Context, force bool) (res Result, err error) {
	a.defaults()
	if a.Client == nil {
		return Result{}, errors.New("no server: give --server, or --local/--xml to write the inventory to files")
	}
	st, err := a.identity()
	if err != nil {
		return Result{}, err
	}
	res = Result{DeviceID: st.DeviceID}
	var scanNet string
	var scanLatency time.Duration
	if !force {
		root, err := a.Client.Post(ctx, ocsxml.Marshal(ocsxml.RequestDecl, ocsxml.NewRequest(st.DeviceID, ocsxml.QueryProlog, nil)))
		if err != nil {
			return res, fmt.Errorf("prolog: %w", err)
		}
		if root == nil {
			return res, errors.New("prolog: empty reply")
		}
		pr, err := ocsxml.ParsePrologReply(root)
		if err != nil {
			return res, fmt.Errorf("prolog reply: %w", err)
		}
		res.Response, res.PrologFreq = pr.Response, pr.PrologFreq
		if pr.PrologFreq > 0 && pr.PrologFreq != st.PrologFreq {
			st.PrologFreq = pr.PrologFreq
			if err := st.Save(a.WorkDir); err != nil {
				return res, err
			}
		}
		conf, offers := downloadRequest(pr)
		defer func() { res.Packages = a.downloads(ctx, st.DeviceID, conf, offers) }()
		if pr.Response != ocsxml.Send {
			a.Log.Info("the server does not want an inventory now", "response", pr.Response)
			return res, nil
		}
		scanNet, scanLatency, _ = ipdiscoverRequest(pr)
	}
	inv := a.inventory(ctx, st)
	if scanNet != "" {
		// Elected: scan the network and send what was found. A failed scan
		// sends no IPDISCOVER section, and the server will elect another.
		start := time.Now()
		hosts, err := a.Scan(ctx, scanNet, scanLatency)
		if err != nil {
			a.Log.Warn("ipdiscover scan failed", "network", scanNet, "err", err)
		} else {
			a.Log.Info("ipdiscover scan", "network", scanNet, "latency", scanLatency, "hosts", len(hosts), "took", time.Since(start).Round(time.Millisecond))
		}
		inv.IPDiscover = hosts
		res.Scanned = scanNet
	}
	digests := Digests(inv)
	res.Checksum = Checksum(st.LastState, digests)
	inv.Hardware.Checksum = strconv.FormatUint(uint64(res.Checksum), 10)
	root, err := a.Client.Post(ctx, inventories.Marshal(st.DeviceID, inv))
	if err != nil {
		return res, fmt.Errorf("inventory: %w", err)
	}
	if root == nil {
		return res, errors.New("inventory: empty reply")
	}
	ir, err := ocsxml.ParseInventoryReply(root)
	if err != nil {
		return res, fmt.Errorf("inventory reply: %w", err)
	}
	res.Sent = true
	if ir.Response == ocsxml.AccountUpdate {
		st.AccountInfo = ir.AccountInfo
		res.AccountUpdate = true
	}
	// Only an acknowledged inventory moves the baseline of the next delta,
	// and ends the claim on the old DEVICEID.
	st.LastState = digests
	st.OldDeviceID = ""
	if err := st.Save(a.WorkDir); err != nil {
		return res, fmt.Errorf("save state: %w", err)
	}
	return res, nil
}

// WriteLocal writes the inventory to dir as DEVICEID.ocs (zlib, as the
// Windows agent's /LOCAL) or, with plain, DEVICEID.xml. Every CHECKSUM bit
// is set: a file is a whole inventory.
func (a *Agent) WriteLocal(ctx context.Context, dir string, plain bool) (Result, error) {
	a.defaults()
	st, err := a.identity()
	if err != nil {
		return Result{}, err
	}
	inv := a.inventory(ctx, st)
	inv.Hardware.Checksum = strconv.FormatUint(uint64(inventories.AllChecksumBits), 10)
	doc := inventories.Marshal(st.DeviceID, inv)
	name, data := st.DeviceID+".ocs", ocsxml.Compress(doc)
	if plain {
		name, data = st.DeviceID+".xml", doc
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Result{}, err
	}
	path := filepath.Join(dir, name)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return Result{}, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return Result{}, err
	}
	return Result{DeviceID: st.DeviceID, File: path, Checksum: inventories.AllChecksumBits}, nil
}
