// Package capabilities turns the capability names of a runtime-spec process
// into the five Linux capability sets and applies them to the calling thread.
//
// New resolves and checks the names (the parent does this once, early); the
// Caps it returns is plain data (five bitmasks) that can travel to the init in
// a JSON message, where ApplyBounding and ApplyCaps put it into effect.
package capabilities

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Caps holds the five capability sets of a process as bitmasks (bit n is
// capability number n). Only capabilities the running kernel knows are set.
type Caps struct {
	Bounding    uint64 `json:"bounding"`
	Effective   uint64 `json:"effective"`
	Permitted   uint64 `json:"permitted"`
	Inheritable uint64 `json:"inheritable"`
	Ambient     uint64 `json:"ambient"`
}

// byName maps "CAP_CHOWN" style names to capability numbers for every
// capability the capability package knows, whatever the running kernel.
var byName = func() map[string]capability.Cap {
	m := make(map[string]capability.Cap)
	for _, c := range capability.ListKnown() {
		m[capName(c)] = c
	}
	return m
}()

func capName(c capability.Cap) string {
	return "CAP_" + strings.ToUpper(c.String())
}

// KnownNames returns the names of all capabilities known to husk, sorted, for
// the `features` command.
func KnownNames() []string {
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New resolves the capability names of a spec into bitmasks.
//
// A name nobody knows is an error naming it and its set. A name the running
// kernel does not know (above cap_last_cap) is skipped with a warning, as runc
// does. An absent set is empty, and a nil c gives five empty sets: nothing is
// added implicitly, least of all to the inheritable set.
//
// Two combinations the kernel is certain to refuse are checked here so they
// fail before any process exists: an effective capability that is not
// permitted is an error (capset(2) would fail with EPERM). An ambient
// capability that is not in both the permitted and the inheritable set cannot
// be raised (PR_CAP_AMBIENT_RAISE fails with EPERM); runc warns and goes on
// without it, and so does husk: it is dropped from Ambient with a warning.
func New(c *specs.LinuxCapabilities) (*Caps, []string, error) {
	caps := &Caps{}
	if c == nil {
		return caps, nil, nil
	}
	last, err := capability.LastCap()
	if err != nil {
		return nil, nil, fmt.Errorf("find the last capability of the running kernel: %w", err)
	}
	r := resolver{last: last, warned: map[string]bool{}}
	sets := []struct {
		field string
		names []string
		dst   *uint64
	}{
		{"bounding", c.Bounding, &caps.Bounding},
		{"effective", c.Effective, &caps.Effective},
		{"permitted", c.Permitted, &caps.Permitted},
		{"inheritable", c.Inheritable, &caps.Inheritable},
		{"ambient", c.Ambient, &caps.Ambient},
	}
	for _, s := range sets {
		mask, err := r.resolve(s.field, s.names)
		if err != nil {
			return nil, nil, err
		}
		*s.dst = mask
	}

	if extra := caps.Effective &^ caps.Permitted; extra != 0 {
		return nil, nil, fmt.Errorf("process.capabilities.effective has %s which %s not in process.capabilities.permitted: the kernel refuses an effective capability that is not permitted",
			strings.Join(maskNames(extra), ", "), isAre(extra))
	}
	if stuck := caps.Ambient &^ (caps.Permitted & caps.Inheritable); stuck != 0 {
		for _, n := range maskNames(stuck) {
			r.warnings = append(r.warnings, fmt.Sprintf("can't raise ambient capability %s: it is not in both process.capabilities.permitted and process.capabilities.inheritable (operation not permitted)", n))
		}
		caps.Ambient &^= stuck
	}
	return caps, r.warnings, nil
}

// Validate checks the capability names and sets of a spec the way New does,
// for early validation of a config.
func Validate(c *specs.LinuxCapabilities) error {
	_, _, err := New(c)
	return err
}

type resolver struct {
	last     capability.Cap
	warned   map[string]bool
	warnings []string
}

func (r *resolver) resolve(field string, names []string) (uint64, error) {
	var mask uint64
	for _, n := range names {
		c, ok := byName[n]
		if !ok {
			return 0, fmt.Errorf("unknown capability %q in process.capabilities.%s", n, field)
		}
		if c > r.last {
			if !r.warned[n] {
				r.warned[n] = true
				r.warnings = append(r.warnings, fmt.Sprintf("ignoring capability %s: the running kernel does not know it (its last capability is %s)", n, capName(r.last)))
			}
			continue
		}
		mask |= 1 << uint(c)
	}
	return mask, nil
}

// maskNames returns the capability names of a mask, lowest number first.
func maskNames(mask uint64) []string {
	var names []string
	for mask != 0 {
		n := bits.TrailingZeros64(mask)
		mask &^= 1 << uint(n)
		names = append(names, capName(capability.Cap(n)))
	}
	return names
}

func isAre(mask uint64) string {
	if bits.OnesCount64(mask) == 1 {
		return "is"
	}
	return "are"
}
