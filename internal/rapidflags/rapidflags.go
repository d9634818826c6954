// Package rapidflags sets how many cases a rapid property test tries when
// the command line does not say: rapid's default of 100 is too many for a
// test that drives a server and too few for a cheap one.
package rapidflags

import (
	"flag"
	"os"
	"strconv"
	"sync"
)

// given reports whether the run chose the number of checks itself; it is
// computed once, before DefaultChecks sets the flag.
var given = sync.OnceValue(func() bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	_, env := os.LookupEnv("RAPID_CHECKS")
	return set || env
})

// DefaultChecks makes n the number of checks of the following rapid.Check
// calls unless -rapid.checks or RAPID_CHECKS was given. Call it at the
// start of a test.
func DefaultChecks(n int) {
	if given() {
		return
	}
	if err := flag.Set("rapid.checks", strconv.Itoa(n)); err != nil {
		panic("rapidflags: rapid is not linked into the test: " + err.Error())
	}
}
