package libcontainer

import (
	"errors"
	"fmt"
	"os"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"golang.org/x/sys/unix"
)

// lsmLabels are the AppArmor profile and SELinux labels the init applies. The parent decides
// them from the config and the host (hostLSM.resolve); empty means nothing to apply.
type lsmLabels struct {
	AppArmorProfile string `json:"apparmor_profile,omitempty"`
	ProcessLabel    string `json:"process_label,omitempty"`
	MountLabel      string `json:"mount_label,omitempty"`
}

// hostLSM tells whether the host enforces each of the two LSMs husk drives. Asked only when a
// setting needs the answer: most containers have none, and their start reads nothing more.
type hostLSM struct {
	appArmor, selinux func() bool
}

var theHost = hostLSM{appArmor: appArmorEnabled, selinux: selinuxEnabled}

// lsmRequest is one setting and where it came from (a config field or a flag), for the error.
type lsmRequest struct {
	field, value string
}

// resolve decides what the init applies, as runc does: an AppArmor profile on a host without
// AppArmor, and an SELinux label on a host without SELinux, are errors (the container would run
// unconfined, or its mounts unlabelled, while its config says otherwise).
func (h hostLSM) resolve(profile, processLabel, mountLabel lsmRequest) (lsmLabels, error) {
	var out lsmLabels
	if profile.value != "" {
		if !h.appArmor() {
			return out, fmt.Errorf("%s: profile %q specified but AppArmor is disabled on the host", profile.field, profile.value)
		}
		out.AppArmorProfile = profile.value
	}
	if processLabel.value == "" && mountLabel.value == "" {
		return out, nil
	}
	if !h.selinux() {
		for _, r := range []lsmRequest{processLabel, mountLabel} {
			if r.value != "" {
				return out, fmt.Errorf("%s: label %q specified but SELinux is disabled on the host", r.field, r.value)
			}
		}
	}
	out.ProcessLabel, out.MountLabel = processLabel.value, mountLabel.value
	return out, nil
}

// applyExecLabels sets the AppArmor profile and the SELinux label the next execve gives the
// workload. Neither confines the init itself.
func applyExecLabels(l lsmLabels) error {
	if l.AppArmorProfile != "" {
		paths, payload := appArmorExecAttr(l.AppArmorProfile)
		if err := writeThreadAttr(paths, payload); err != nil {
			if errors.Is(err, unix.ENOENT) {
				err = fmt.Errorf("%w (is the profile loaded?)", err)
			}
			return fmt.Errorf("process.apparmorProfile %q: %w", l.AppArmorProfile, err)
		}
	}
	if l.ProcessLabel != "" {
		paths, payload := selinuxExecAttr(l.ProcessLabel)
		if err := writeThreadAttr(paths, payload); err != nil {
			return fmt.Errorf("process.selinuxLabel %q: %w", l.ProcessLabel, err)
		}
	}
	return nil
}

// writeThreadAttr writes payload to the first of paths (relative to /proc/thread-self) that
// exists. It goes through a procfs handle pathrs-lite verified (a private procfs mount where
// the kernel allows one), never through the container's /proc: after pivot_root that may be a
// fake one, or have a file bound over the attr file, which would take the write and leave the
// workload unconfined (CVE-2025-52881). The attr files are per thread, so this must run on the
// thread that execs: the init's, locked in Init.
func writeThreadAttr(paths []string, payload string) error {
	proc, err := procfs.OpenProcRoot()
	if err != nil {
		return fmt.Errorf("open procfs: %w", err)
	}
	defer proc.Close()
	var (
		f      *os.File
		closer procfs.ProcThreadSelfCloser
		path   string
	)
	for _, path = range paths {
		f, closer, err = proc.OpenThreadSelf(path)
		if err == nil || !errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("open /proc/thread-self/%s: %w", path, err)
	}
	defer closer()
	defer f.Close()
	wf, err := pathrs.Reopen(f, unix.O_WRONLY|unix.O_CLOEXEC)
	if err != nil {
		return fmt.Errorf("open /proc/thread-self/%s for writing: %w", path, err)
	}
	defer wf.Close()
	if _, err := wf.Write([]byte(payload)); err != nil {
		return fmt.Errorf("write %q to /proc/thread-self/%s: %w", payload, path, err)
	}
	return nil
}
