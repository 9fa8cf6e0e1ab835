package libcontainer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// selinuxEnabled reports whether the host enforces SELinux, as opencontainers/selinux decides:
// selinuxfs is mounted and a policy is loaded (until one is, every task's label is "kernel").
func selinuxEnabled() bool {
	return selinuxEnabledAt("/")
}

// selinuxEnabledAt is selinuxEnabled for a host whose /sys and /proc are under root (tests use
// a fake).
func selinuxEnabledAt(root string) bool {
	if _, err := os.Stat(filepath.Join(root, "sys/fs/selinux/enforce")); err != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(root, "proc/self/attr/current"))
	if err != nil {
		return false
	}
	label := strings.TrimRight(string(b), "\x00\n")
	return label != "" && label != "kernel"
}

// validateSELinuxLabel checks a context (user:role:type[:level]) before anything is done with
// it, SELinux or not. The label goes into mount data as context="<label>": a '"' would end the
// quoting and let the rest be read as further mount options, so only the characters SELinux
// names use are allowed. Commas only in the level, for category sets (s0:c1,c2): the quotes
// keep the kernel from splitting the option there.
func validateSELinuxLabel(field, label string) error {
	if label == "" {
		return nil
	}
	for _, r := range label {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.-:,", r)
		if !ok {
			return fmt.Errorf("%s: %q: character %q is not allowed in an SELinux context", field, label, r)
		}
	}
	parts := strings.SplitN(label, ":", 4)
	if len(parts) < 3 {
		return fmt.Errorf("%s: %q is not an SELinux context (user:role:type[:level])", field, label)
	}
	for _, p := range parts[:3] {
		if p == "" || strings.Contains(p, ",") {
			return fmt.Errorf("%s: %q is not an SELinux context (user:role:type[:level])", field, label)
		}
	}
	return nil
}

// mountData is the data for a new (not bind) mount of type fstype: data plus the container's
// mount label as context="<label>", which gives every file of the mount that label. As runc:
// proc and sysfs cannot take a context, and mqueue is labelled through the xattr of its root
// after the mount (setFileLabel).
func mountData(fstype, data, label string) string {
	if label == "" || fstype == "proc" || fstype == "sysfs" || fstype == "mqueue" {
		return data
	}
	opt := `context="` + label + `"`
	if data == "" {
		return opt
	}
	return data + "," + opt
}

// setFileLabel gives the file at path (a mount's root: the mount) the SELinux label.
func setFileLabel(path, label string) error {
	if err := unix.Setxattr(path, "security.selinux", []byte(label), 0); err != nil {
		return fmt.Errorf("setxattr security.selinux %q: %w", label, err)
	}
	return nil
}

// selinuxExecAttr is what setexeccon writes for the label of the next execve.
func selinuxExecAttr(label string) (paths []string, payload string) {
	return []string{"attr/exec"}, label
}

// selinuxKeyAttr is what setkeycreatecon writes for the label of the keys the thread creates.
func selinuxKeyAttr(label string) (paths []string, payload string) {
	return []string{"attr/keycreate"}, label
}

// setKeyLabel labels the keys this thread creates next, the session keyring among them, with
// the process's label, so that the workload can use its own keyring (runc's SetKeyLabel
// before it joins the keyring). execve resets the attribute.
func setKeyLabel(label string) error {
	if label == "" {
		return nil
	}
	paths, payload := selinuxKeyAttr(label)
	if err := writeThreadAttr(paths, payload); err != nil {
		return fmt.Errorf("process.selinuxLabel %q: label of the session keyring: %w", label, err)
	}
	return nil
}
