package orgd_test

import (
	"testing"
	"time"

	"github.com/orgd/orgd"
)

// TestFormatDuration: durations are written as people set them; weeks only
// when whole, so the 30-day maximum of an invitation reads "30d".
func TestFormatDuration(t *testing.T) {
	day := 24 * time.Hour
	for d, want := range map[time.Duration]string{
		0:                          "0s",
		72 * time.Hour:             "3d",
		36 * time.Hour:             "1d12h",
		7 * day:                    "1w",
		14 * day:                   "2w",
		30 * day:                   "30d",
		9*day + 4*time.Minute:      "9d4m",
		24*time.Hour + time.Second: "1d1s",
	} {
		if got := orgd.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
