package main

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func durations(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, v := range ms {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	ten := durations(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"none", nil, 50, 0},
		{"one value is every percentile", durations(7), 99, 7 * time.Millisecond},
		{"median of ten is the fifth", ten, 50, 5 * time.Millisecond},
		{"p90 of ten is the ninth, not the tenth", ten, 90, 9 * time.Millisecond},
		{"p99 of ten is the largest", ten, 99, 10 * time.Millisecond},
		{"p100 is the largest", ten, 100, 10 * time.Millisecond},
		{"a tiny p is the smallest", ten, 0.1, 1 * time.Millisecond},
		{"p99 of a hundred", hundred, 99, 99 * time.Millisecond},
		{"p99.9 of a hundred rounds up", hundred, 99.9, 100 * time.Millisecond},
		{"p50 of two is the first", durations(1, 9), 50, 1 * time.Millisecond},
		{"p51 of two is the second", durations(1, 9), 51, 9 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	got := summarize(durations(1, 2, 3, 4, 5, 6, 7, 8, 9, 100))
	want := Latency{P50: 5 * time.Millisecond, P90: 9 * time.Millisecond, P99: 100 * time.Millisecond,
		Max: 100 * time.Millisecond, Mean: 14500 * time.Microsecond}
	if got != want {
		t.Errorf("summarize = %+v, want %+v", got, want)
	}
	if got := summarize(nil); got != (Latency{}) {
		t.Errorf("summarize(nil) = %+v, want zero", got)
	}
}

// The clients of these runs stop by running out of work, long before the
// time is up, so what they count does not depend on the machine's speed.
func TestDriveCountsEveryOperationUntilTheWorkRunsOut(t *testing.T) {
	var calls atomic.Int64
	op := func(ctx context.Context, worker int) (string, error) {
		n := calls.Add(1)
		kind := "read"
		if n%3 == 0 {
			kind = "write"
		}
		switch {
		case n > 30:
			return "", errExhausted
		case n%10 == 0:
			return kind, errors.New("status 500, want 200")
		}
		return kind, nil
	}
	r := drive(context.Background(), 4, time.Hour, op)
	if r.Requests != 30 || r.Errors != 3 || !r.Exhausted {
		t.Errorf("requests %d, errors %d, exhausted %v; want 30, 3, true", r.Requests, r.Errors, r.Exhausted)
	}
	if want := map[string]int{"read": 20, "write": 10}; !maps.Equal(r.Kinds, want) {
		t.Errorf("kinds %v, want %v: every completed operation by its kind, failed ones too", r.Kinds, want)
	}
	if r.ErrorKind["status 500, want 200"] != 3 {
		t.Errorf("error kinds %v, want the one message counted 3 times", r.ErrorKind)
	}
	if len(r.Latencies) != 30 || !slices.IsSorted(r.Latencies) {
		t.Errorf("%d latencies, sorted %v; want 30 sorted", len(r.Latencies), slices.IsSorted(r.Latencies))
	}
}

func TestDriveGivesEachClientItsOwnIndex(t *testing.T) {
	var seen [3]atomic.Int64
	op := func(ctx context.Context, worker int) (string, error) {
		if seen[worker].Add(1) > 5 {
			return "", errExhausted
		}
		return "read", nil
	}
	r := drive(context.Background(), 3, time.Hour, op)
	if r.Requests != 15 {
		t.Errorf("requests %d, want 5 from each of 3 clients", r.Requests)
	}
}

func TestDriveKeepsABoundedNumberOfErrorKinds(t *testing.T) {
	var calls atomic.Int64
	op := func(ctx context.Context, worker int) (string, error) {
		n := calls.Add(1)
		if n > 100 {
			return "", errExhausted
		}
		return "read", errors.New("error " + string(rune('A'+n%50)))
	}
	r := drive(context.Background(), 1, time.Hour, op)
	if r.Errors != 100 || len(r.ErrorKind) != maxErrorKinds {
		t.Errorf("errors %d in %d kinds, want 100 in %d", r.Errors, len(r.ErrorKind), maxErrorKinds)
	}
}

func TestDriveStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	op := func(ctx context.Context, worker int) (string, error) {
		if calls.Add(1) == 5 {
			cancel()
		}
		return "read", ctx.Err()
	}
	r := drive(ctx, 1, time.Hour, op)
	if r.Requests != 4 || r.Errors != 0 {
		t.Errorf("requests %d, errors %d; want the 4 before the cancel, no errors", r.Requests, r.Errors)
	}
}

func TestPoolHandsOutEachInvitationOnce(t *testing.T) {
	p := &pool{items: []pooled{{ID: "a"}, {ID: "b"}}}
	var got []string
	for {
		it, ok := p.take()
		if !ok {
			break
		}
		got = append(got, it.ID)
	}
	if !slices.Equal(got, []string{"a", "b"}) || p.left() != 0 {
		t.Errorf("took %v, %d left; want [a b], 0 left", got, p.left())
	}
}
