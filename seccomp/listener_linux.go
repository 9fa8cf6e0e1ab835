package seccomp

import (
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// SendListener hands a seccomp notify fd to the agent listening on the unix
// socket listenerPath, as the runtime-spec describes: one message on a
// SOCK_STREAM connection carrying a specs.ContainerProcessState (fds
// ["seccompFd"], the container state, listenerMetadata) as JSON, with the fd
// in SCM_RIGHTS. state is the container's state JSON (specs.State, as
// `husk state` prints it; not a ContainerProcessState, which is built here).
//
// listenerPath is a path of the host: call this from the runtime's side (the
// parent), never from the init once it has moved into the container's mount
// namespace, where the path would resolve inside the container's rootfs and
// could reach a socket the container controls.
func SendListener(listenerPath string, fd int, state []byte, metadata string) error {
	var st specs.State
	if err := json.Unmarshal(state, &st); err != nil {
		return fmt.Errorf("send seccomp listener to %s: decode container state: %w", listenerPath, err)
	}
	if st.ID == "" || st.Pid == 0 {
		return fmt.Errorf("send seccomp listener to %s: the container state has no id or pid (want the JSON of a specs.State)", listenerPath)
	}
	msg, err := json.Marshal(specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      st.Pid,
		Metadata: metadata,
		State:    st,
	})
	if err != nil {
		return fmt.Errorf("send seccomp listener to %s: encode process state: %w", listenerPath, err)
	}

	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("send seccomp listener to %s: socket: %w", listenerPath, err)
	}
	defer unix.Close(sock)
	if err := unix.Connect(sock, &unix.SockaddrUnix{Name: listenerPath}); err != nil {
		return fmt.Errorf("send seccomp listener: connect to %s: %w", listenerPath, err)
	}
	n, err := unix.SendmsgN(sock, msg, unix.UnixRights(fd), nil, 0)
	if err != nil {
		return fmt.Errorf("send seccomp listener to %s: sendmsg: %w", listenerPath, err)
	}
	// The fd went with the first byte; a stream socket may take the rest
	// in more writes.
	for n < len(msg) {
		m, err := unix.Write(sock, msg[n:])
		if err != nil {
			return fmt.Errorf("send seccomp listener to %s: write: %w", listenerPath, err)
		}
		n += m
	}
	return nil
}
