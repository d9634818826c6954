package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuTime returns the CPU time (user plus system) a process has used.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/<pid>/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from its closing parenthesis.
func parseStatCPU(stat string) (time.Duration, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("/proc stat: no command name")
	}
	f := strings.Fields(stat[end+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, errors.New("/proc stat: too few fields")
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// statusBytes reads a "kB" field such as VmHWM or VmRSS of /proc/<pid>/status.
func statusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusBytes(string(b), field)
}

func parseStatusBytes(status, field string) (int64, error) {
	for line := range strings.Lines(status) {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || name != field {
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(rest), " ")
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || unit != "kB" {
			return 0, fmt.Errorf("/proc status: %s: %q", field, strings.TrimSpace(rest))
		}
		return n << 10, nil
	}
	return 0, fmt.Errorf("/proc status: no %s", field)
}

// resetPeakRSS resets a process's VmHWM to its current resident size
// (Linux 4.0 and later; needs the right to write the process's clear_refs).
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// usage measures a process's CPU time and peak resident memory over an
// interval. The peak is VmHWM after a reset, and, where the reset is not
// allowed, the highest VmRSS seen by sampling.
type usage struct {
	pid      int
	cpu0     time.Duration
	rss0     int64
	hwmReset bool
	stop     chan struct{}
	done     sync.WaitGroup
	sampled  int64
}

func startUsage(pid int) (*usage, error) {
	u := &usage{pid: pid, stop: make(chan struct{})}
	u.hwmReset = resetPeakRSS(pid) == nil
	u.rss0, _ = statusBytes(pid, "VmRSS")
	cpu, err := cpuTime(pid)
	if err != nil {
		return nil, err
	}
	u.cpu0 = cpu
	u.done.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, err := statusBytes(pid, "VmRSS"); err == nil {
				u.sampled = max(u.sampled, rss)
			}
			select {
			case <-u.stop:
				return
			case <-t.C:
			}
		}
	})
	return u, nil
}

// finish returns the CPU time used since start and the peak resident bytes.
func (u *usage) finish() (cpu time.Duration, peak int64, err error) {
	close(u.stop)
	u.done.Wait()
	cpu1, err := cpuTime(u.pid)
	if err != nil {
		return 0, 0, err
	}
	peak = u.sampled
	if u.hwmReset {
		if hwm, err := statusBytes(u.pid, "VmHWM"); err == nil {
			peak = max(peak, hwm)
		}
	}
	return cpu1 - u.cpu0, peak, nil
}
