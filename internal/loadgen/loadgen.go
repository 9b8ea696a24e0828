// Package loadgen posts OCS agent traffic at a server with a fixed number of
// concurrent clients and measures throughput and latency. It measures
// muster's server and the real OCS server with the same load, so the
// benchmark can print one beside the other.
package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Result is what one load run measured.
type Result struct {
	Requests int
	OK       int
	Failed   int
	// FirstError describes the first failure, if any.
	FirstError string
	Wall       time.Duration
	P50, P99   time.Duration
	Max        time.Duration
}

// Rate returns successful requests per second.
func (r Result) Rate() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(r.OK) / r.Wall.Seconds()
}

// Options shape a run.
type Options struct {
	URL       string
	UserAgent string
	// Concurrency is the number of clients posting at once.
	Concurrency int
	// KeepAlive reuses connections; agents open a new one per request, the
	// default.
	KeepAlive bool
}

// Run posts every body once, Concurrency at a time, and measures.
func Run(ctx context.Context, o Options, bodies [][]byte) Result {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.UserAgent == "" {
		o.UserAgent = "OCS-NG_unified_unix_agent_v2.10.0"
	}
	var (
		mu    sync.Mutex
		res   = Result{Requests: len(bodies)}
		lats  = make([]time.Duration, 0, len(bodies))
		next  = make(chan []byte)
		wg    sync.WaitGroup
		start = time.Now()
	)
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{
				DisableKeepAlives: !o.KeepAlive, MaxIdleConnsPerHost: 1, DisableCompression: true,
			}}
			defer client.CloseIdleConnections()
			for body := range next {
				t0 := time.Now()
				err := post(ctx, client, o, body)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					res.Failed++
					if res.FirstError == "" {
						res.FirstError = err.Error()
					}
				} else {
					res.OK++
					lats = append(lats, d)
				}
				mu.Unlock()
			}
		}()
	}
	for _, b := range bodies {
		select {
		case next <- b:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	res.Wall = time.Since(start)
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	if n := len(lats); n > 0 {
		res.P50 = lats[n/2]
		res.P99 = lats[min(n-1, n*99/100)]
		res.Max = lats[n-1]
	}
	return res
}

func post(ctx context.Context, c *http.Client, o Options, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, "POST", o.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", o.UserAgent)
	req.Header.Set("Content-Type", "application/x-compress")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	return nil
}
