// Package seccomp compiles linux.seccomp of a runtime-spec config into a
// classic BPF program and loads it.
//
// The work is split for speed: the parent compiles with libseccomp (Compile,
// or CompileCached), and the container's init loads the finished program
// with one seccomp(2) call (Load), so libseccomp never runs there. A
// listener fd for SCMP_ACT_NOTIFY goes to the agent with SendListener.
package seccomp

// Filter is a compiled seccomp filter, ready for the init to load with a
// single seccomp(2) call. It is plain data so the parent can send it to the
// init in a JSON message (Program travels as base64).
type Filter struct {
	// Program is the struct sock_filter array, in host byte order.
	Program []byte `json:"program"`
	// Flags are the SECCOMP_FILTER_FLAG_* bits from linux.seccomp.flags.
	// Load adds NEW_LISTENER (and TSYNC_ESRCH with TSYNC) when Notify is set.
	Flags uint `json:"flags"`
	// Notify is set when a rule uses SCMP_ACT_NOTIFY: Load then asks the
	// kernel for a listener fd, to be sent to linux.seccomp.listenerPath.
	Notify bool `json:"notify"`
}
