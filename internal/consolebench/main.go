// Command consolebench measures the web console's fleet page on a server
// holding many synthetic devices (internal/fleet): the server time of the
// page's API calls (first page, a search, a late page sorted by last
// contact, the CSV export), p50 and p99, and the page's weight on first
// load; and the evaluation of dynamic groups over them in the store. There is no anchor: OCS's ocsreports needs Apache, PHP and
// MariaDB set up for it, and its pages are not the same work; the goal is
// absolute (the issue's: fast at 10,000 devices, under 300 KB).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"muster/internal/fleet"
	"muster/internal/loadgen"
)

func main() {
	bin := flag.String("muster", "bin/muster", "the muster binary")
	n := flag.Int("devices", 10000, "synthetic devices to load")
	tmplPath := flag.String("template", "inventories/testdata/inventory.xml", "the inventory every device is cloned from (843 packages)")
	tries := flag.Int("n", 200, "requests per measured call")
	flag.Parse()
	if err := run(*bin, *tmplPath, *n, *tries); err != nil {
		fmt.Fprintln(os.Stderr, "consolebench:", err)
		os.Exit(1)
	}
}

func run(bin, tmplPath string, devices, tries int) error {
	data, err := os.MkdirTemp("", "consolebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	cmd := exec.Command(bin, "-o", "json", "--log-level", "warn", "server", "--listen", "127.0.0.1:0", "--data-dir", data)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	sc := bufio.NewScanner(out)
	var js strings.Builder
	for sc.Scan() {
		js.WriteString(sc.Text())
		if sc.Text() == "}" {
			break
		}
	}
	var ready struct{ URL, Listen string }
	if err := json.Unmarshal([]byte(js.String()), &ready); err != nil {
		return fmt.Errorf("muster server did not start: %q", js.String())
	}
	go io.Copy(io.Discard, out)
	base := "http://" + ready.Listen

	tmpl, err := fleet.Load(tmplPath)
	if err != nil {
		return err
	}
	bodies := make([][]byte, devices)
	for i := range bodies {
		bodies[i] = tmpl.Body("bench", i)
	}
	start := time.Now()
	res := loadgen.Run(context.Background(), loadgen.Options{URL: ready.URL, Concurrency: 8, KeepAlive: true}, bodies)
	if res.Failed > 0 {
		return fmt.Errorf("loading: %d of %d inventories failed: %s", res.Failed, devices, res.FirstError)
	}
	fmt.Printf("loaded %d synthetic devices (%s) in %v\n", devices, filepath.Base(tmplPath), time.Since(start).Round(time.Millisecond))

	pw := filepath.Join(data, "pw")
	os.WriteFile(pw, []byte("bench-password\n"), 0o600)
	if out, err := exec.Command(bin, "server", "user", "add", "bench", "--role", "viewer", "--password-file", pw, "--data-dir", data).CombinedOutput(); err != nil {
		return fmt.Errorf("user add: %v: %s", err, out)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute}
	resp, err := c.PostForm(base+"/ui/login", url.Values{"name": {"bench"}, "password": {"bench-password"}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/ui/fleet" {
		return fmt.Errorf("login ended on %s (%s)", resp.Request.URL, resp.Status)
	}

	// The page's weight on first load: the shell, its module and style,
	// and the two API calls it makes.
	weight := 0
	for _, p := range []string{"/ui/fleet", "/ui/assets/app.js", "/ui/assets/style.css", "/api/v1/me", "/api/v1/fleet?q=&sort=name&order=asc&page=1&per_page=50"} {
		b, err := get(c, base+p)
		if err != nil {
			return err
		}
		weight += len(b)
	}
	fmt.Printf("fleet page, first load: %.1f KB transferred (goal < 300 KB)\n", float64(weight)/1024)

	var total struct{ Total int }
	b, err := get(c, base+"/api/v1/fleet?per_page=1")
	if err != nil {
		return err
	}
	json.Unmarshal(b, &total)
	if total.Total != devices {
		return fmt.Errorf("the fleet holds %d devices, want %d", total.Total, devices)
	}
	for _, q := range []struct{ name, path string }{
		{"first page (50, by name)", "/api/v1/fleet?sort=name&page=1&per_page=50"},
		{"search by name (11 matches)", fmt.Sprintf("/api/v1/fleet?q=bench%05d&per_page=50", devices/100)},
		{"page 100 by last contact, newest first", "/api/v1/fleet?sort=last_contact&order=desc&page=100&per_page=50"},
	} {
		lat := make([]time.Duration, 0, tries)
		for i := 0; i < tries; i++ {
			t0 := time.Now()
			if _, err := get(c, base+q.path); err != nil {
				return err
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		fmt.Printf("%-40s p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms  (%d requests, %d devices)\n", q.name,
			ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), ms(lat[len(lat)-1]), tries, devices)
	}
	t0 := time.Now()
	csv, err := get(c, base+"/api/v1/fleet.csv")
	if err != nil {
		return err
	}
	if rows := strings.Count(string(csv), "\n"); rows != devices+1 {
		return fmt.Errorf("CSV export: %d lines, want %d", rows, devices+1)
	}
	fmt.Printf("CSV export of every device: %.1f ms, %.1f KB\n", ms(time.Since(t0)), float64(len(csv))/1024)

	// Dynamic groups, evaluated by the store in SQL: every device matches
	// the first (the worst case: every row read), none the last.
	for _, g := range []struct{ name, query string }{
		{"old-bash", `has software "bash" < "99"`},
		{"debian-big", `os ~ "debian" and memory >= 1024 and seen < 30`},
		{"no-such", `has software "no-such-package-anywhere"`},
	} {
		if out, err := exec.Command(bin, "group", "add", g.name, "--query", g.query, "--data-dir", data).CombinedOutput(); err != nil {
			return fmt.Errorf("group add %s: %v: %s", g.name, err, out)
		}
		lat := make([]time.Duration, 0, 20)
		var n int
		for i := 0; i < 20; i++ {
			t0 := time.Now()
			b, err := get(c, base+"/api/v1/groups/"+g.name+"/members")
			if err != nil {
				return err
			}
			lat = append(lat, time.Since(t0))
			var m []json.RawMessage
			json.Unmarshal(b, &m)
			n = len(m)
		}
		slices.Sort(lat)
		fmt.Printf("group %-40q %5d members  p50 %7.1f ms  p99 %7.1f ms  (20 evaluations)\n", g.query, n, ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func get(c *http.Client, u string) ([]byte, error) {
	resp, err := c.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s %s", u, resp.Status, b)
	}
	return b, err
}
