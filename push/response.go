package push

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Outcome is how a host ended.
type Outcome string

// Every host ends in exactly one of these.
const (
	OK            Outcome = "ok"
	Unreachable   Outcome = "unreachable"
	AuthFailed    Outcome = "auth_failed"
	InstallFailed Outcome = "install_failed"
	Failed        Outcome = "error"
	// Unknown is an installer that started but whose end was never seen
	// (the connection dropped, the pusher was killed): muster does not run
	// it again blindly. Its marker on the host says when it started.
	Unknown Outcome = "unknown"
)

// Record is one row of a response file: one host's outcome.
type Record struct {
	// Host is the host as a host-list line (scheme, user and port kept), so
	// a response file can be pushed again.
	Host      string        `json:"host"`
	Transport Scheme        `json:"transport"`
	Outcome   Outcome       `json:"outcome"`
	Attempts  int           `json:"attempts"`
	ExitCode  *int          `json:"exit_code"`
	Reboot    bool          `json:"reboot"`
	Error     string        `json:"error"`
	Start     time.Time     `json:"start"`
	Duration  time.Duration `json:"-"`
	// Via says how the installer reached the host: copy, pull, or share
	// (a UNC installer run from its share as SYSTEM).
	Via string `json:"via,omitempty"`
}

// MarshalJSON writes the duration in milliseconds.
func (r Record) MarshalJSON() ([]byte, error) {
	type plain Record
	return json.Marshal(struct {
		plain
		DurationMS int64 `json:"duration_ms"`
	}{plain(r), r.Duration.Milliseconds()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Record) UnmarshalJSON(b []byte) error {
	type plain Record
	var v struct {
		plain
		DurationMS int64 `json:"duration_ms"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Record(v.plain)
	r.Duration = time.Duration(v.DurationMS) * time.Millisecond
	return nil
}

var csvHeader = []string{"host", "transport", "outcome", "attempts", "exit_code", "reboot", "error", "start", "duration_ms", "via"}

// csvHeaderV1 is the header of response files before the via column; they
// are still read.
var csvHeaderV1 = csvHeader[:9]

func (r Record) csvRow() []string {
	code := ""
	if r.ExitCode != nil {
		code = strconv.Itoa(*r.ExitCode)
	}
	return []string{r.Host, string(r.Transport), string(r.Outcome), strconv.Itoa(r.Attempts), code,
		strconv.FormatBool(r.Reboot), r.Error, r.Start.UTC().Format(time.RFC3339Nano), strconv.FormatInt(r.Duration.Milliseconds(), 10), r.Via}
}

// ResponseWriter appends one record per host to a response file and
// fsyncs after each, so a crash loses no finished host.
type ResponseWriter struct {
	mu     sync.Mutex
	f      *os.File
	format string
}

// FormatOf returns the format a path implies: jsonl for .jsonl/.json,
// else csv.
func FormatOf(path string) string {
	if strings.HasSuffix(path, ".jsonl") || strings.HasSuffix(path, ".json") {
		return "jsonl"
	}
	return "csv"
}

// OpenResponse opens (appending to) a response file; a new CSV file gets a
// header.
func OpenResponse(path, format string) (*ResponseWriter, error) {
	if format != "csv" && format != "jsonl" {
		return nil, fmt.Errorf("response format %q: want csv or jsonl", format)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("response file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	w := &ResponseWriter{f: f, format: format}
	if format == "csv" && st.Size() == 0 {
		if err := w.writeCSV(csvHeader); err != nil {
			f.Close()
			return nil, err
		}
	}
	return w, nil
}

func (w *ResponseWriter) writeCSV(row []string) error {
	var b strings.Builder
	cw := csv.NewWriter(&b)
	cw.Write(row)
	cw.Flush()
	if _, err := w.f.WriteString(b.String()); err != nil {
		return err
	}
	return w.f.Sync()
}

// Write appends a record and syncs it to disk.
func (w *ResponseWriter) Write(r Record) error {
	r.Error = Sanitize(r.Error)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.format == "csv" {
		return w.writeCSV(r.csvRow())
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := w.f.Write(append(b, '\n')); err != nil {
		return err
	}
	return w.f.Sync()
}

// Close closes the file.
func (w *ResponseWriter) Close() error { return w.f.Close() }

// ReadResponse reads a response file of either format. A last line cut off
// by a crash is skipped; any other bad line is an error naming it.
func ReadResponse(path string) ([]Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	trimmed := strings.TrimLeft(string(data), " \t\r\n")
	if strings.HasPrefix(trimmed, "{") {
		return readJSONL(path, data)
	}
	return readCSV(path, data)
}

func readJSONL(path string, data []byte) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	line := 0
	complete := len(data) > 0 && data[len(data)-1] == '\n'
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	for i, l := range lines {
		line = i + 1
		if strings.TrimSpace(l) == "" {
			continue
		}
		var r Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			if i == len(lines)-1 && !complete {
				break // cut off by a crash
			}
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if err := r.check(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func readCSV(path string, data []byte) ([]Record, error) {
	complete := len(data) > 0 && data[len(data)-1] == '\n'
	cr := csv.NewReader(strings.NewReader(string(data)))
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil && !complete {
		// Retry without the partial last line.
		cut := strings.LastIndexByte(strings.TrimRight(string(data), "\n"), '\n')
		if cut < 0 {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return readCSV(path, data[:cut+1])
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	header := csvHeader
	if strings.Join(rows[0], ",") == strings.Join(csvHeaderV1, ",") {
		header = csvHeaderV1
	} else if strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
		return nil, fmt.Errorf("%s:1: not a muster response file (header %q)", path, strings.Join(rows[0], ","))
	}
	var out []Record
	for i, row := range rows[1:] {
		line := i + 2
		// A file begun before the via column may get rows with it on --resume.
		if len(row) != len(header) && len(row) != len(csvHeader) {
			if i == len(rows)-2 && !complete {
				break
			}
			return nil, fmt.Errorf("%s:%d: %d fields, want %d", path, line, len(row), len(header))
		}

		r := Record{Host: row[0], Transport: Scheme(row[1]), Outcome: Outcome(row[2]), Error: row[6]}
		if len(row) > 9 {
			r.Via = row[9]
		}
		var perr error
		if r.Attempts, perr = strconv.Atoi(row[3]); perr != nil {
			return nil, fmt.Errorf("%s:%d: attempts %q", path, line, row[3])
		}
		if row[4] != "" {
			c, err := strconv.Atoi(row[4])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: exit_code %q", path, line, row[4])
			}
			r.ExitCode = &c
		}
		r.Reboot = row[5] == "true"
		if r.Start, perr = time.Parse(time.RFC3339Nano, row[7]); perr != nil {
			return nil, fmt.Errorf("%s:%d: start %q", path, line, row[7])
		}
		ms, err := strconv.ParseInt(row[8], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: duration_ms %q", path, line, row[8])
		}
		r.Duration = time.Duration(ms) * time.Millisecond
		if err := r.check(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (r Record) check() error {
	switch r.Outcome {
	case OK, Unreachable, AuthFailed, InstallFailed, Failed, Unknown:
	default:
		return fmt.Errorf("unknown outcome %q", r.Outcome)
	}
	if _, err := ParseHost(r.Host); err != nil {
		return fmt.Errorf("host %q: %w", r.Host, err)
	}
	return nil
}

// Latest returns the last record of each host in records (a file appended
// to by several runs), by host.
func Latest(records []Record) map[string]Record {
	out := map[string]Record{}
	for _, r := range records {
		out[r.Host] = r
	}
	return out
}

// Unfinished returns the hosts that have no record yet: what --resume
// pushes after a crash, without touching a finished host.
func Unfinished(hosts []Host, recs []Record, def Scheme) []Host {
	done := map[string]bool{}
	for _, r := range recs {
		if h, err := ParseHost(r.Host); err == nil {
			done[h.Key(def)] = true
		}
	}
	var out []Host
	for _, h := range hosts {
		if !done[h.Key(def)] {
			out = append(out, h)
		}
	}
	return out
}

// NotOK returns the hosts whose latest record is not ok, in the order
// they first appear: what --retry-from pushes again.
func NotOK(recs []Record) []Host {
	var order []string
	latest := map[string]Record{}
	hosts := map[string]Host{}
	for _, r := range recs {
		h, err := ParseHost(r.Host)
		if err != nil {
			continue // ReadResponse refuses such files
		}
		k := h.Key(r.Transport)
		if _, ok := latest[k]; !ok {
			order = append(order, k)
		}
		latest[k], hosts[k] = r, h
	}
	var out []Host
	for _, k := range order {
		if latest[k].Outcome != OK {
			out = append(out, hosts[k])
		}
	}
	return out
}
