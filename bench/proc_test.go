package main

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with a space and a parenthesis must not shift the fields.
	stat := "4242 (orgd (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 9 0 100 200000 3000 18446744073709551615"
	got, err := parseStatCPU(stat)
	if want := 3250 * time.Millisecond; err != nil || got != want {
		t.Errorf("parseStatCPU = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"", "4242 orgd S 1", "4242 (orgd) S 1 2 3"} {
		if _, err := parseStatCPU(bad); err == nil {
			t.Errorf("parseStatCPU(%q): no error", bad)
		}
	}
}

func TestParseStatusBytes(t *testing.T) {
	status := "Name:\torgd\nVmPeak:\t 1234 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n"
	for field, want := range map[string]int64{"VmHWM": 50 << 20, "VmRSS": 40 << 20} {
		if got, err := parseStatusBytes(status, field); err != nil || got != want {
			t.Errorf("%s = %d, %v; want %d", field, got, err, want)
		}
	}
	if _, err := parseStatusBytes(status, "VmSwap"); err == nil {
		t.Error("a missing field: no error")
	}
	if _, err := parseStatusBytes("VmRSS:\tlots\n", "VmRSS"); err == nil {
		t.Error("a field that is not a number: no error")
	}
}

// The measurement of this very process works, whatever it reads.
func TestUsageOfThisProcess(t *testing.T) {
	u, err := startUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cpu, peak, err := u.finish()
	if err != nil || cpu < 0 || peak <= 0 {
		t.Errorf("finish = %v, %d, %v; want a CPU time, a positive peak and no error", cpu, peak, err)
	}
}
