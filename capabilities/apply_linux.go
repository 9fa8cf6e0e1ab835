package capabilities

import (
	"fmt"
	"strings"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"
)

// Capability sets are attributes of a thread, not of a process: both methods
// act on the calling OS thread only. The init must hold runtime.LockOSThread
// and execve from that same thread.

// ApplyBounding drops from the bounding set of the calling thread every
// capability that is not in c.Bounding. It needs CAP_SETPCAP in the effective
// set, so it runs before ApplyCaps and before switching to the container user.
// The bounding set can only shrink: a capability asked for that the thread
// no longer has stays absent, as with runc.
func (c *Caps) ApplyBounding() error {
	last, err := capability.LastCap()
	if err != nil {
		return fmt.Errorf("apply bounding set: find the last capability: %w", err)
	}
	for cp := capability.Cap(0); cp <= last; cp++ {
		if c.Bounding&(1<<uint(cp)) != 0 {
			continue
		}
		// Read first: dropping needs CAP_SETPCAP even for a capability
		// already gone, and a bounding set that is already narrow enough
		// must not make the call fail.
		in, err := capability.GetBound(cp)
		if err != nil {
			return fmt.Errorf("apply bounding set: read %s: prctl PR_CAPBSET_READ: %w", capName(cp), err)
		}
		if !in {
			continue
		}
		if err := capability.DropBound(cp); err != nil {
			return fmt.Errorf("apply bounding set: drop %s: prctl PR_CAPBSET_DROP: %w", capName(cp), err)
		}
	}
	return nil
}

// ApplyCaps sets the effective, permitted and inheritable sets of the calling
// thread to exactly c's (capset(2)), then clears the ambient set and raises
// the capabilities of c.Ambient. When the kernel refuses, the error names the
// capability and the set that could not be applied.
func (c *Caps) ApplyCaps() error {
	p, err := capability.NewPid2(0)
	if err != nil {
		return fmt.Errorf("apply capabilities: %w", err)
	}
	p.Clear(capability.CAPS)
	p.Set(capability.EFFECTIVE, maskCaps(c.Effective)...)
	p.Set(capability.PERMITTED, maskCaps(c.Permitted)...)
	p.Set(capability.INHERITABLE, maskCaps(c.Inheritable)...)
	if err := p.Apply(capability.CAPS); err != nil {
		return c.capsetError(err)
	}

	if err := capability.ResetAmbient(); err != nil {
		return fmt.Errorf("apply capabilities: clear the ambient set: prctl PR_CAP_AMBIENT_CLEAR_ALL: %w", err)
	}
	for _, cp := range maskCaps(c.Ambient) {
		if err := capability.SetAmbient(true, cp); err != nil {
			return fmt.Errorf("apply capabilities: raise ambient capability %s: prctl PR_CAP_AMBIENT_RAISE: %w", capName(cp), err)
		}
	}
	return nil
}

// capsetError explains a failed capset(2): the kernel only says EPERM, so
// compare what was asked for with what the thread holds, using the rules of
// cap_capset() in the kernel, to name the capabilities at fault.
func (c *Caps) capsetError(err error) error {
	var reasons []string
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if gerr := unix.Capget(&hdr, &data[0]); gerr != nil {
		return fmt.Errorf("apply capabilities: capset: %w (and capget to explain it failed: %v)", err, gerr)
	}
	oldEff := uint64(data[0].Effective) | uint64(data[1].Effective)<<32
	oldPrm := uint64(data[0].Permitted) | uint64(data[1].Permitted)<<32
	oldInh := uint64(data[0].Inheritable) | uint64(data[1].Inheritable)<<32

	if m := c.Permitted &^ oldPrm; m != 0 {
		reasons = append(reasons, fmt.Sprintf("permitted %s not held by the runtime itself (the host's bounding set may lack it)", strings.Join(maskNames(m), ", ")))
	}
	if oldEff&(1<<uint(capability.CAP_SETPCAP)) == 0 {
		if m := c.Inheritable &^ (oldInh | oldPrm); m != 0 {
			reasons = append(reasons, fmt.Sprintf("inheritable %s not permitted to the runtime", strings.Join(maskNames(m), ", ")))
		}
	}
	var outside uint64
	for _, cp := range maskCaps(c.Inheritable &^ oldInh) {
		if in, berr := capability.GetBound(cp); berr == nil && !in {
			outside |= 1 << uint(cp)
		}
	}
	if outside != 0 {
		reasons = append(reasons, fmt.Sprintf("inheritable %s not in the bounding set", strings.Join(maskNames(outside), ", ")))
	}
	if len(reasons) == 0 {
		return fmt.Errorf("apply capabilities: capset: %w", err)
	}
	return fmt.Errorf("apply capabilities: %s: capset: %w", strings.Join(reasons, "; "), err)
}

func maskCaps(mask uint64) []capability.Cap {
	var caps []capability.Cap
	for n := 0; n < 64; n++ {
		if mask&(1<<uint(n)) != 0 {
			caps = append(caps, capability.Cap(n))
		}
	}
	return caps
}
