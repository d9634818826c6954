package orgd

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

var durationUnits = map[byte]time.Duration{
	's': time.Second,
	'm': time.Minute,
	'h': time.Hour,
	'd': 24 * time.Hour,
	'w': 7 * 24 * time.Hour,
}

const maxDurationText = 32

// ParseDuration reads the durations that invitation clients send: one or more
// whole numbers each followed by a unit s, m, h, d (24 h) or w (7 d), such as
// "30m", "72h", "3d", "2w" or "1d12h". Units are case-insensitive; spaces,
// signs, fractions and a bare number are refused.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("the duration is empty")
	}
	if len(s) > maxDurationText {
		return 0, errors.New("the duration is too long")
	}
	var total time.Duration
	rest := strings.ToLower(s)
	for rest != "" {
		i := 0
		for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, errors.New(`the duration must be whole numbers with units, such as "72h", "3d" or "2w"`)
		}
		if i == len(rest) {
			return 0, errors.New(`the duration needs a unit: s, m, h, d or w (such as "72h" or "3d")`)
		}
		unit, ok := durationUnits[rest[i]]
		if !ok {
			return 0, errors.New(`unknown duration unit "` + string(rest[i]) + `": use s, m, h, d or w`)
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil || n > int64(1<<62)/int64(unit) {
			return 0, errors.New("the duration is too large")
		}
		part := time.Duration(n) * unit
		if total > time.Duration(1<<62)-part {
			return 0, errors.New("the duration is too large")
		}
		total += part
		rest = rest[i+1:]
	}
	return total, nil
}

// ParseLifetime reads the lifetime of something that must expire after it is
// made, such as an API key: a duration as ParseDuration reads it, longer than
// zero.
func ParseLifetime(s string) (time.Duration, error) {
	d, err := ParseDuration(s)
	if err == nil && d <= 0 {
		err = errors.New("the lifetime must be positive")
	}
	return d, err
}

// FormatDuration writes d in the largest whole units ParseDuration reads back,
// such as "3d" or "1d12h". Weeks are written only for whole weeks: 30 days
// is "30d", not "4w2d".
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	const week = 7 * 24 * time.Hour
	var b strings.Builder
	for _, u := range []struct {
		c byte
		d time.Duration
	}{{'w', week}, {'d', 24 * time.Hour}, {'h', time.Hour}, {'m', time.Minute}, {'s', time.Second}} {
		if u.d == week && d%week != 0 {
			continue
		}
		if n := d / u.d; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteByte(u.c)
			d -= n * u.d
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}
