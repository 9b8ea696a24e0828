// Package agent is muster's endpoint agent: it keeps the machine's identity
// and state in a work directory, speaks the OCS agent protocol to muster's
// server or a real OCS server (PROLOG, then INVENTORY when asked), writes
// .ocs files in local mode, runs as a service that calls back every
// PROLOG_FREQ hours, and activates with a client's code. It never listens
// on the network.
package agent

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"muster/inventories"
	"muster/inventories/ocsxml"
)

// State is what the agent remembers between runs, in WorkDir/state.json.
type State struct {
	DeviceID string `json:"deviceid"`
	// OldDeviceID is the DEVICEID this one replaced, sent as OLD_DEVICEID
	// until the server took an inventory under the new one (it then
	// merges the old record: the history stays with the machine).
	OldDeviceID string `json:"old_deviceid,omitempty"`
	// Hostname is the short host name the DeviceID was made for; a new
	// name means a new DeviceID, as the OCS agent does.
	Hostname string `json:"hostname"`
	// PrologFreq is the last PROLOG_FREQ the server sent (hours).
	PrologFreq int `json:"prolog_freq,omitempty"`
	// TTOWait is when the service calls next (OCS's TTO_WAIT), persisted
	// so a restart keeps the randomized schedule.
	TTOWait time.Time `json:"tto_wait,omitempty"`
	// LastState holds a digest per section of the last inventory the
	// server acknowledged: the CHECKSUM delta is computed from it.
	LastState map[string]string `json:"last_state,omitempty"`
	// AccountInfo is what the server sent with ACCOUNT_UPDATE (TAG…).
	AccountInfo []ocsxml.KeyValue `json:"accountinfo,omitempty"`
	// Client is the client the agent was activated for.
	Client     string `json:"client,omitempty"`
	Activation string `json:"activation,omitempty"`
	// InstallerCodeTried is set once the code an installer left (MSI
	// property or file name) was tried: it is for new installs only, and
	// never re-activates an agent that was deactivated since.
	InstallerCodeTried bool `json:"installer_code_tried,omitempty"`
	// PackageKey is the server's package-signing key (base64 ed25519),
	// pinned at the first activation: from then on only packages it
	// signed run.
	PackageKey string `json:"package_key,omitempty"`
	// Secret is the device secret the server issued at activation,
	// sealed with the work directory's key: it proves this device's own
	// requests (a move to another client, a deactivation).
	Secret string `json:"secret,omitempty"`
}

// StateFile is the state's file name in the work directory.
const StateFile = "state.json"

// LoadState reads the work directory's state; a missing file is a fresh
// state.
func LoadState(workDir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(workDir, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return &State{}, nil
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(workDir, StateFile), err)
	}
	return &s, nil
}

// Save writes the state atomically (temporary file, fsync, rename).
func (s *State) Save(workDir string) error {
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(workDir, StateFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(workDir, StateFile))
}

var idRe = regexp.MustCompile(`^(.+)-\d{4}(-\d{2}){5}$`)

// EnsureDeviceID gives the state a DEVICEID for host, made at now:
// hostname-YYYY-MM-DD-HH-MM-SS. It keeps the stored one unless the host
// name changed or renew is set (--uid). It reports whether it made one.
func (s *State) EnsureDeviceID(host string, now time.Time, renew bool) bool {
	host, _, _ = strings.Cut(host, ".")
	if !renew && s.DeviceID != "" && s.Hostname == host {
		if m := idRe.FindStringSubmatch(s.DeviceID); m != nil && m[1] == host {
			return false
		}
	}
	if s.OldDeviceID == "" {
		s.OldDeviceID = s.DeviceID // the one the server knows, if any
	}
	s.DeviceID = host + now.Format("-2006-01-02-15-04-05")
	s.Hostname = host
	s.LastState = nil // a new identity is a new machine to the server
	return true
}

// Digests returns a digest per section of inv (MD5, base64, as the OCS
// agent's last_state).
func Digests(inv *inventories.Inventory) map[string]string {
	out := map[string]string{}
	for _, sec := range inventories.Sections() {
		if sec.Bit == 0 {
			continue
		}
		b, _ := json.Marshal(inv.Field(sec))
		sum := md5.Sum(b)
		out[sec.Name] = base64.RawStdEncoding.EncodeToString(sum[:])
	}
	return out
}

// Checksum is the CHECKSUM of inv against the last acknowledged state:
// the bits of the sections whose digest changed (all of them without a
// last state).
func Checksum(last map[string]string, now map[string]string) uint32 {
	var sum uint32
	for _, sec := range inventories.Sections() {
		if sec.Bit == 0 {
			continue
		}
		if last == nil || last[sec.Name] != now[sec.Name] {
			sum |= sec.Bit
		}
	}
	return sum
}
