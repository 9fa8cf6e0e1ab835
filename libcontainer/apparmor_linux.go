package libcontainer

import (
	"os"
	"path/filepath"
)

// appArmorEnabled reports whether the host enforces AppArmor profiles: securityfs shows
// AppArmor's directory and the module says it is enabled (runc's test, libapparmor's too).
func appArmorEnabled() bool {
	return appArmorEnabledAt("/")
}

// appArmorEnabledAt is appArmorEnabled for a host whose /sys is under root (tests use a fake).
func appArmorEnabledAt(root string) bool {
	if _, err := os.Stat(filepath.Join(root, "sys/kernel/security/apparmor")); err != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(root, "sys/module/apparmor/parameters/enabled"))
	return err == nil && len(b) > 0 && b[0] == 'Y'
}

// appArmorExecAttr is what libapparmor's aa_change_onexec writes to switch to profile at the
// next execve: the attr files to try in order (AppArmor's own, then the legacy one that the
// first major LSM owns), and the payload.
func appArmorExecAttr(profile string) (paths []string, payload string) {
	return []string{"attr/apparmor/exec", "attr/exec"}, "exec " + profile
}
