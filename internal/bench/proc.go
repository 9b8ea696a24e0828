package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ProcessTree is pid and its live descendants, from /proc (Linux).
func ProcessTree(pid int) []int {
	if pid <= 0 {
		return nil
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", out[i], out[i]))
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// CPU is the user + system time the processes used, their reaped children
// included, from /proc (Linux); processes gone are skipped.
func CPU(pids []int) time.Duration {
	var d time.Duration
	for _, p := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || i+2 > len(b) {
			continue
		}
		f := strings.Fields(string(b[i+2:]))
		if len(f) < 15 {
			continue
		}
		var ticks int64
		for _, k := range []int{11, 12, 13, 14} { // utime stime cutime cstime
			v, _ := strconv.ParseInt(f[k], 10, 64)
			ticks += v
		}
		d += time.Duration(ticks) * time.Second / 100 // USER_HZ
	}
	return d
}
