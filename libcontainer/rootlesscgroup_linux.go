package libcontainer

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/husk-runtime/husk/cgroups"
	"github.com/husk-runtime/husk/userns"
)

// rootlessCgroup decides the cgroup of a container made with rootless cgroups (--rootless,
// which "auto" turns on for an unprivileged user or in a user namespace), as runc does: the
// cgroup when husk may create it (a delegated cgroup v2 subtree, as a systemd user session
// gives); none when it may not, linux.cgroupsPath is empty and no limit needs one (the
// container then runs in husk's own cgroup, and pause, ps, update and stats refuse); an error
// naming the field otherwise. Nothing is left behind either way.
func rootlessCgroup(cg cgroups.Manager, spec *specs.Spec) (cgroups.Manager, error) {
	err := cg.Apply(-1)
	if err == nil {
		return cg, nil
	}
	cg.Destroy() // whatever part of it was made
	if !errors.Is(err, os.ErrPermission) && !errors.Is(err, unix.EROFS) {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	if spec.Linux.CgroupsPath != "" {
		return nil, fmt.Errorf("linux.cgroupsPath %q: rootless, and no permission to create it: %w", spec.Linux.CgroupsPath, err)
	}
	if field := limitField(spec.Linux.Resources); field != "" {
		return nil, fmt.Errorf("%s: rootless without cgroup access: the limit needs a cgroup, which husk cannot create (%v); a delegated cgroup v2 subtree (a systemd user session) gives one", field, err)
	}
	slog.Debug("rootless: no cgroup for the container", "error", err)
	return nil, nil
}

// limitField names the first field of r that only a cgroup can enforce ("" for none). Device
// rules are not among them: a rootless container cannot make device nodes, and reaches the
// host's only through their permissions.
func limitField(r *specs.LinuxResources) string {
	if r == nil {
		return ""
	}
	switch {
	case r.Memory != nil:
		return "linux.resources.memory"
	case r.CPU != nil:
		return "linux.resources.cpu"
	case r.Pids != nil:
		return "linux.resources.pids"
	case r.BlockIO != nil:
		return "linux.resources.blockIO"
	case len(r.HugepageLimits) > 0:
		return "linux.resources.hugepageLimits"
	case r.Network != nil:
		return "linux.resources.network"
	case len(r.Rdma) > 0:
		return "linux.resources.rdma"
	case len(r.Unified) > 0:
		return "linux.resources.unified"
	}
	return ""
}

// rootlessResources is what an unprivileged husk sets in a cgroup it could create: the limits
// without the device rules, which need the host's privileges (a BPF program on cgroup v2), as
// runc leaves them out for rootless containers.
func rootlessResources(r *specs.LinuxResources) *specs.LinuxResources {
	if !rootlessEUID() && !userns.Running() {
		return r
	}
	out := *r
	out.Devices = nil
	return &out
}
