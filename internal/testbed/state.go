//go:build linux

package testbed

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
)

// stateDir keeps one JSON file per bed, so `lan list` and `lan down NAME`
// work from another process.
const stateDir = "/run/muster-testbed"

func statePath(name string) string { return filepath.Join(stateDir, name+".json") }

// State is what a bed's state file records.
type State struct {
	Name        string   `json:"name"`
	Dir         string   `json:"dir"`
	Operator    string   `json:"operator"`
	OperatorIPs []string `json:"operator_ips"`
	LANs        []LAN    `json:"lans"`
	Hosts       []Host   `json:"hosts"`
	SSHUser     string   `json:"ssh_user,omitempty"`
	SSHKey      string   `json:"ssh_key,omitempty"`
}

func (b *Bed) state() State {
	st := State{Name: b.Name, Dir: b.Dir, Operator: b.Operator, OperatorIPs: b.OperatorIPs, LANs: b.LANs, Hosts: b.hosts}
	if b.ssh != nil {
		st.SSHUser, st.SSHKey = SSHUser, b.ssh.clientKey
	}
	return st
}

func (b *Bed) saveState() error {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(b.state(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(statePath(b.Name), data, 0o644)
}

func loadState(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &st, nil
}

// States lists the beds on this machine, from their state files.
func States() ([]*State, error) {
	files, err := filepath.Glob(filepath.Join(stateDir, Prefix+"*.json"))
	if err != nil {
		return nil, err
	}
	var out []*State
	for _, f := range files {
		st, err := loadState(f)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// DownByName tears down the bed called name, found by its namespaces.
func DownByName(name string) error {
	b := &Bed{Name: name, down: map[string]bool{}}
	if st, err := loadState(statePath(name)); err == nil {
		b.Dir = st.Dir
	}
	if len(listNS(name+"-")) == 0 && b.Dir == "" {
		return fmt.Errorf("no bed called %s", name)
	}
	return b.Down()
}

// live beds of this process, torn down on SIGINT or SIGTERM.
var (
	liveMu  sync.Mutex
	live    = map[*Bed]bool{}
	sigOnce sync.Once
)

func register(b *Bed) {
	liveMu.Lock()
	live[b] = true
	liveMu.Unlock()
	sigOnce.Do(func() {
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt, syscall.SIGTERM)
		go func() {
			s := <-c
			liveMu.Lock()
			beds := make([]*Bed, 0, len(live))
			for b := range live {
				beds = append(beds, b)
			}
			liveMu.Unlock()
			for _, b := range beds {
				b.Down()
			}
			fmt.Fprintf(os.Stderr, "testbed: %v: tore down %d bed(s)\n", s, len(beds))
			os.Exit(130)
		}()
	})
}

func unregister(b *Bed) {
	liveMu.Lock()
	delete(live, b)
	liveMu.Unlock()
}
