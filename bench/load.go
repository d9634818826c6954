package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Op is one unit of load: one request and the check of its answer, or one
// database statement. worker is the index of the client running it. It
// returns the kind of request it made (the call's name), which the run
// counts. An Op returns errExhausted when it has nothing left to do (a pool
// of invitations used up): its client stops, and that is not an error.
type Op func(ctx context.Context, worker int) (kind string, err error)

var errExhausted = errors.New("nothing left to do")

// maxErrorKinds bounds how many distinct error messages a run keeps.
const maxErrorKinds = 20

// Run is what one load run measured.
type Run struct {
	Requests  int             // completed operations, errors included
	Kinds     map[string]int  // completed operations by the kind of request
	Errors    int             // operations whose answer failed its check
	ErrorKind map[string]int  // up to maxErrorKinds distinct messages and their counts
	Latencies []time.Duration // of every completed operation, sorted
	Elapsed   time.Duration   // from the first start to the last completion
	Exhausted bool            // a client ran out of work before the time was up
}

// RPS is completed operations per second.
func (r *Run) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// drive runs op from clients concurrent clients, each starting a new
// operation as soon as its previous one ends, until d has passed. An
// operation in flight at the end is waited for and counted.
func drive(ctx context.Context, clients int, d time.Duration, op Op) *Run {
	type local struct {
		lat       []time.Duration
		kinds     map[string]int
		errs      map[string]int
		nerr      int
		exhausted bool
	}
	locals := make([]local, clients)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			l := &locals[w]
			l.errs, l.kinds = map[string]int{}, map[string]int{}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				kind, err := op(ctx, w)
				lat := time.Since(t0)
				if errors.Is(err, errExhausted) {
					l.exhausted = true
					return
				}
				if ctx.Err() != nil {
					return // cancelled: the answer says nothing about the server
				}
				l.lat = append(l.lat, lat)
				l.kinds[kind]++
				if err != nil {
					l.nerr++
					if msg := err.Error(); l.errs[msg] > 0 || len(l.errs) < maxErrorKinds {
						l.errs[msg]++
					}
				}
			}
		})
	}
	wg.Wait()
	r := &Run{Elapsed: time.Since(start), ErrorKind: map[string]int{}, Kinds: map[string]int{}}
	for _, l := range locals {
		r.Latencies = append(r.Latencies, l.lat...)
		for kind, n := range l.kinds {
			r.Kinds[kind] += n
		}
		r.Errors += l.nerr
		r.Exhausted = r.Exhausted || l.exhausted
		for msg, n := range l.errs {
			if _, ok := r.ErrorKind[msg]; ok || len(r.ErrorKind) < maxErrorKinds {
				r.ErrorKind[msg] += n
			}
		}
	}
	r.Requests = len(r.Latencies)
	slices.Sort(r.Latencies)
	return r
}

// Latency summarises sorted latencies.
type Latency struct {
	P50, P90, P99, Max, Mean time.Duration
}

func summarize(sorted []time.Duration) Latency {
	if len(sorted) == 0 {
		return Latency{}
	}
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	return Latency{
		P50: percentile(sorted, 50), P90: percentile(sorted, 90), P99: percentile(sorted, 99),
		Max: sorted[len(sorted)-1], Mean: sum / time.Duration(len(sorted)),
	}
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values at
// or below it. It is 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// rank = ceil(p/100 * n), computed in integers to avoid float error at
	// exact boundaries (p=90, n=10 must give rank 9).
	rank := int((int64(p*1000)*int64(n) + 100_000 - 1) / 100_000)
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}
