package ocsxml

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Encoding names how a body was compressed on the wire.
type Encoding int

// The encodings an OCS server accepts. Agents send Zlib; .ocs files of the
// Unix agent are Plain; some relays send Gzip.
const (
	Zlib Encoding = iota
	Gzip
	Plain
)

func (e Encoding) String() string {
	switch e {
	case Zlib:
		return "zlib"
	case Gzip:
		return "gzip"
	}
	return "plain"
}

// ErrTooLarge is returned when a body, compressed or inflated, is larger than
// the limit it was read with.
var ErrTooLarge = errors.New("body too large")

// ErrNotOCS is returned when a body is neither zlib, gzip nor XML.
var ErrNotOCS = errors.New("body is neither zlib, gzip nor XML")

// DecodeBody inflates an OCS body of any accepted encoding and returns the
// XML with the encoding found. The inflated size is bounded by max, so a
// small compressed body cannot expand without limit.
func DecodeBody(body []byte, max int64) ([]byte, Encoding, error) {
	if int64(len(body)) > max {
		return nil, 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(body), max)
	}
	switch {
	case len(body) >= 2 && isZlibHeader(body[0], body[1]):
		out, err := inflate(body, max)
		if err != nil {
			return nil, Zlib, fmt.Errorf("zlib: %w", err)
		}
		return out, Zlib, nil
	case len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b:
		gr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, Gzip, fmt.Errorf("gzip: %w", err)
		}
		out, err := readLimited(gr, max)
		if err != nil {
			return nil, Gzip, fmt.Errorf("gzip: %w", err)
		}
		return out, Gzip, nil
	case looksLikeXML(body):
		return body, Plain, nil
	}
	return nil, 0, ErrNotOCS
}

// isZlibHeader checks RFC 1950's header: deflate method, window ≤ 32K, and
// the check bits.
func isZlibHeader(cmf, flg byte) bool {
	return cmf&0x0f == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0
}

func looksLikeXML(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}

func readLimited(r io.Reader, max int64) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("truncated stream")
		}
		return nil, err
	}
	if int64(len(out)) > max {
		return nil, fmt.Errorf("%w: inflates past the limit of %d bytes", ErrTooLarge, max)
	}
	return out, nil
}

// zlibReaders keeps inflaters for reuse: a new one allocates its window.
var zlibReaders sync.Pool

func inflate(body []byte, max int64) ([]byte, error) {
	var zr io.ReadCloser
	if r, ok := zlibReaders.Get().(io.ReadCloser); ok {
		if err := r.(zlib.Resetter).Reset(bytes.NewReader(body), nil); err != nil {
			return nil, err
		}
		zr = r
	} else {
		r, err := zlib.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		zr = r
	}
	out, err := readLimited(zr, max)
	if err == nil {
		zlibReaders.Put(zr)
	}
	return out, err
}

var zlibWriters = sync.Pool{New: func() any { return zlib.NewWriter(nil) }}

// smallCache remembers the compressed form of small, often repeated
// documents (prolog replies come in a handful of shapes): resetting a
// deflater costs more than the rest of a PROLOG.
var smallCache struct {
	sync.RWMutex
	m map[string][]byte
}

const (
	smallCacheMaxDoc     = 4 << 10
	smallCacheMaxEntries = 256
)

// CompressCached is Compress for small documents that repeat; it returns a
// shared slice the caller must not modify.
func CompressCached(data []byte) []byte {
	if len(data) > smallCacheMaxDoc {
		return Compress(data)
	}
	smallCache.RLock()
	z, ok := smallCache.m[string(data)]
	smallCache.RUnlock()
	if ok {
		return z
	}
	z = Compress(data)
	smallCache.Lock()
	if smallCache.m == nil {
		smallCache.m = map[string][]byte{}
	}
	if len(smallCache.m) < smallCacheMaxEntries {
		smallCache.m[string(data)] = z
	}
	smallCache.Unlock()
	return z
}

// Compress returns data as a zlib stream, the format every OCS agent expects
// in a reply and every OCS server expects in a request.
func Compress(data []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(data)/4 + 64)
	zw := zlibWriters.Get().(*zlib.Writer)
	zw.Reset(&b)
	// Writes to a bytes.Buffer cannot fail.
	_, _ = zw.Write(data)
	_ = zw.Close()
	zlibWriters.Put(zw)
	return b.Bytes()
}
