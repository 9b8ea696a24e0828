//go:build linux

package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// onLockedThread runs fn on a locked OS thread and then switches the thread
// back to its original namespace. Only if that fails is the thread left
// locked, so the runtime discards it; that is not enough alone, because the
// main thread, should the goroutine land there, is never discarded.
func onLockedThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		defer func() {
			if netns.Set(orig) == nil {
				runtime.UnlockOSThread()
			}
		}()
		errc <- fn()
	}()
	return <-errc
}

// inNS runs fn on an OS thread switched into the named namespace. Sockets
// fn creates stay in the namespace after fn returns.
func inNS(name string, fn func() error) error {
	return onLockedThread(func() error {
		h, err := netns.GetFromName(name)
		if err != nil {
			return fmt.Errorf("namespace %s: %w", name, err)
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			return fmt.Errorf("enter namespace %s: %w", name, err)
		}
		return fn()
	})
}

// newNS creates the named namespace, applies sysctls inside it, and
// returns a netlink handle on it.
func newNS(name string, sysctls map[string]string) (*netlink.Handle, error) {
	var h *netlink.Handle
	err := onLockedThread(func() error {
		ns, err := netns.NewNamed(name) // also enters it
		if err != nil {
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
		defer ns.Close()
		for k, v := range sysctls {
			p := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				return fmt.Errorf("namespace %s: sysctl %s=%s: %w", name, k, v, err)
			}
		}
		h, err = netlink.NewHandleAt(ns)
		if err != nil {
			return fmt.Errorf("namespace %s: netlink: %w", name, err)
		}
		lo, err := h.LinkByName("lo")
		if err == nil {
			err = h.LinkSetUp(lo)
		}
		if err != nil {
			h.Close()
			return fmt.Errorf("namespace %s: loopback up: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// quietSysctls keeps test interfaces silent: no IPv6 (no router or
// neighbour solicitations), so captures see only what a test sends.
var quietSysctls = map[string]string{
	"net.ipv6.conf.all.disable_ipv6":     "1",
	"net.ipv6.conf.default.disable_ipv6": "1",
}

// handleAt opens a netlink handle in the named namespace.
func handleAt(name string) (*netlink.Handle, error) {
	ns, err := netns.GetFromName(name)
	if err != nil {
		return nil, fmt.Errorf("namespace %s: %w", name, err)
	}
	defer ns.Close()
	return netlink.NewHandleAt(ns)
}

// nsPIDs lists the processes whose network namespace is the named one.
func nsPIDs(name string) []int {
	target, err := os.Stat(filepath.Join(netnsDir, name))
	if err != nil {
		return nil
	}
	tst, ok := target.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	var pids []int
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		st, err := os.Stat(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			continue
		}
		if s, ok := st.Sys().(*syscall.Stat_t); ok && s.Ino == tst.Ino && s.Dev == tst.Dev {
			pids = append(pids, pid)
		}
	}
	return pids
}

// deleteNS kills every process in the namespace, then deletes it and its
// /etc/netns directory.
func deleteNS(name string) error {
	for _, pid := range nsPIDs(name) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	// Wait (bounded) for the processes to go, so nothing holds the namespace.
	for i := 0; i < 50 && len(nsPIDs(name)) > 0; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	os.RemoveAll(filepath.Join("/etc/netns", name))
	if err := netns.DeleteNamed(name); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("delete namespace %s: %w", name, err)
	}
	return nil
}

const netnsDir = "/var/run/netns"

// listNS returns the named namespaces whose names start with prefix.
func listNS(prefix string) []string {
	entries, _ := os.ReadDir(netnsDir)
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// nsCommand returns a command that runs inside the named namespace through
// `ip netns exec`, which also bind-mounts /etc/netns/NAME/* over /etc.
func nsCommand(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", name}, args...)...)
}
