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
	u, err := startUsage(os.Getpid(), "")
	if err != nil {
		t.Fatal(err)
	}
	cpu, peak, err := u.finish()
	if err != nil || cpu.server < 0 || cpu.database != 0 || peak <= 0 {
		t.Errorf("finish = %+v, %d, %v; want a CPU time, no database, a positive peak and no error", cpu, peak, err)
	}
	u, err = startUsage(0, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, peak, err := u.finish(); err != nil || peak != 0 {
		t.Errorf("finish without a server = %d, %v; want no peak and no error", peak, err)
	}
}

func TestParseMachineBusy(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	stat := "cpu  100 20 30 5000 400 5 6 7 50 0\ncpu0 50 10 15 2500 200 2 3 3 25 0\n"
	got, err := parseMachineBusy(stat)
	if want := 1680 * time.Millisecond; err != nil || got != want {
		t.Errorf("parseMachineBusy = %v, %v; want %v (idle, iowait and guest left out)", got, err, want)
	}
	if _, err := parseMachineBusy("intr 1 2 3\n"); err == nil {
		t.Error("no cpu line: no error")
	}
}

func TestOtherCPUIsWhatTheMeasurementDidNotUse(t *testing.T) {
	s0 := cpuSnapshot{machine: 10 * time.Second, server: 2 * time.Second, database: time.Second, self: time.Second}
	s1 := cpuSnapshot{machine: 20 * time.Second, server: 6 * time.Second, database: 3 * time.Second, self: 3 * time.Second}
	if got := s1.sub(s0).other(); got != 2*time.Second {
		t.Errorf("other = %v, want 2s", got)
	}
	// Processes that ended meanwhile can make the parts exceed the whole.
	if got := (cpuSnapshot{machine: time.Second, server: 2 * time.Second}).other(); got != 0 {
		t.Errorf("other = %v, want 0", got)
	}
}
