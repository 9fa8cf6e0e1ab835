package libcontainer

import "strings"

// execEnv is the environment the workload gets from process.env, as runc prepares it: each
// name once, with the value and position of its last occurrence, and HOME set from home(),
// the user's home in the container's /etc/passwd, when process.env has no HOME or an empty
// one.
func execEnv(env []string, home func() string) []string {
	seen := make(map[string]bool, len(env))
	out := make([]string, 0, len(env)+1)
	hasHome := false
	for i := len(env) - 1; i >= 0; i-- {
		name, value, _ := strings.Cut(env[i], "=")
		if seen[name] {
			continue
		}
		seen[name] = true
		if name == "HOME" {
			if value == "" {
				continue
			}
			hasHome = true
		}
		out = append(out, env[i])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if !hasHome {
		out = append(out, "HOME="+home())
	}
	return out
}
