package discover

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Vendors maps MAC prefixes (24, 28 and 36 bits: IEEE MA-L, MA-M and MA-S)
// to the organisation they were assigned to.
type Vendors struct {
	byPrefix map[string]string // upper-case hex, 6, 7 or 9 digits
	// The built-in table is searched in place: sorted "PREFIX<TAB>name"
	// lines and their offsets, no map to build at start-up.
	sorted []byte
	lines  []uint32
}

//go:generate go run ./internal/genvendors -from /usr/share/ieee-data -out vendors.tsv.gz

//go:embed vendors.tsv.gz
var builtinTable []byte

var (
	builtinOnce sync.Once
	builtin     *Vendors
)

// BuiltinVendors returns the table shipped in the binary (made from
// Debian's ieee-data by go generate).
func BuiltinVendors() *Vendors {
	builtinOnce.Do(func() {
		v, err := readSortedTSV(builtinTable)
		if err != nil {
			panic("discover: built-in vendor table: " + err.Error())
		}
		builtin = v
	})
	return builtin
}

// readSortedTSV indexes a gzipped table written by WriteTSV for binary
// search.
func readSortedTSV(gz []byte) (*Vendors, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	v := &Vendors{sorted: data, lines: make([]uint32, 0, 50000)}
	for off := 0; off < len(data); {
		v.lines = append(v.lines, uint32(off))
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			break
		}
		off += nl + 1
	}
	return v, nil
}

// line returns the prefix and name of sorted line i.
func (v *Vendors) line(i int) (string, string) {
	start := int(v.lines[i])
	end := len(v.sorted)
	if i+1 < len(v.lines) {
		end = int(v.lines[i+1]) - 1
	}
	k, name, _ := strings.Cut(strings.TrimSuffix(string(v.sorted[start:end]), "\n"), "\t")
	return k, name
}

func (v *Vendors) get(prefix string) (string, bool) {
	if v.byPrefix != nil {
		name, ok := v.byPrefix[prefix]
		return name, ok
	}
	i := sort.Search(len(v.lines), func(i int) bool {
		k, _ := v.line(i)
		return k >= prefix
	})
	if i < len(v.lines) {
		if k, name := v.line(i); k == prefix {
			return name, true
		}
	}
	return "", false
}

// Len returns the number of prefixes.
func (v *Vendors) Len() int {
	if v.byPrefix != nil {
		return len(v.byPrefix)
	}
	return len(v.lines)
}

// Lookup returns the vendor of mac, longest prefix first, or "" when the
// prefix is not assigned ("(locally administered)" for such addresses).
func (v *Vendors) Lookup(mac net.HardwareAddr) string {
	if len(mac) < 6 {
		return ""
	}
	h := strings.ToUpper(fmt.Sprintf("%x", []byte(mac[:6])))
	for _, n := range []int{9, 7, 6} {
		if name, ok := v.get(h[:n]); ok {
			return name
		}
	}
	if mac[0]&0x02 != 0 {
		return "(locally administered)"
	}
	return ""
}

// ieeeFiles are the registries of Debian's ieee-data, in the order that
// lets a longer, more specific prefix win.
var ieeeFiles = []string{"oui.csv", "mam.csv", "oui36.csv", "iab.csv"}

// LoadIEEEDir reads the registries of an ieee-data directory
// (/usr/share/ieee-data): refresh the vendors without a new binary.
func LoadIEEEDir(dir string) (*Vendors, error) {
	v := &Vendors{byPrefix: map[string]string{}}
	read := 0
	for _, name := range ieeeFiles {
		f, err := os.Open(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		err = v.ReadIEEECSV(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
		}
		read++
	}
	if read == 0 {
		return nil, fmt.Errorf("%s: none of %s found (Debian: apt-get install ieee-data)", dir, strings.Join(ieeeFiles, ", "))
	}
	return v, nil
}

// ReadIEEECSV adds the entries of one IEEE registry CSV ("Registry,
// Assignment,Organization Name,Organization Address"). Errors name the line.
func (v *Vendors) ReadIEEECSV(r io.Reader) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return err
		}
		if header {
			header = false
			if len(rec) > 0 && strings.EqualFold(strings.TrimSpace(rec[0]), "Registry") {
				continue
			}
		}
		if len(rec) < 3 {
			return fmt.Errorf("line %d: want Registry,Assignment,Organization Name", line)
		}
		prefix := strings.ToUpper(strings.TrimSpace(rec[1]))
		if !validPrefix(prefix) {
			return fmt.Errorf("line %d: assignment %q is not 6, 7 or 9 hex digits", line, rec[1])
		}
		if name := strings.TrimSpace(rec[2]); name != "" {
			v.byPrefix[prefix] = name
		}
	}
}

func validPrefix(p string) bool {
	if n := len(p); n != 6 && n != 7 && n != 9 {
		return false
	}
	for _, c := range p {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// WriteTSV writes the table gzip-compressed as "PREFIX<TAB>Name" lines,
// sorted: the built-in format.
func (v *Vendors) WriteTSV(w io.Writer) error {
	keys := make([]string, 0, len(v.byPrefix))
	for k := range v.byPrefix {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(zw)
	for _, k := range keys {
		fmt.Fprintf(bw, "%s\t%s\n", k, strings.ReplaceAll(v.byPrefix[k], "\t", " "))
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// ReadTSV reads a table written by WriteTSV.
func ReadTSV(r io.Reader) (*Vendors, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	v := &Vendors{byPrefix: map[string]string{}}
	sc := bufio.NewScanner(zr)
	line := 0
	for sc.Scan() {
		line++
		k, name, ok := strings.Cut(sc.Text(), "\t")
		if !ok || !validPrefix(k) {
			return nil, fmt.Errorf("vendor table line %d: want PREFIX<TAB>name", line)
		}
		v.byPrefix[k] = name
	}
	return v, sc.Err()
}
