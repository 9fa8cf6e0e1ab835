package libcontainer

import (
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// inNewNetns runs fn on a thread of its own in a new network namespace; the thread is
// dropped afterwards (never given back to other goroutines).
func inNewNetns(t testing.TB, fn func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (a new network namespace)")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // not unlocked: the thread exits with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			t.Errorf("unshare network namespace: %v", err)
			return
		}
		fn()
	}()
	<-done
}

func loopbackFlags(t testing.TB) uint16 {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		t.Fatal(err)
	}
	return ifr.Uint16()
}

func TestBringUpLoopback(t *testing.T) {
	inNewNetns(t, func() {
		if loopbackFlags(t)&unix.IFF_UP != 0 {
			t.Error("lo is up in a new network namespace before bringUpLoopback")
		}
		if err := bringUpLoopback(); err != nil {
			t.Error(err)
			return
		}
		if loopbackFlags(t)&unix.IFF_UP == 0 {
			t.Error("lo is still down")
		}
		// Again: setting a flag that is set already succeeds.
		if err := bringUpLoopback(); err != nil {
			t.Error(err)
		}
	})
}

// The cost on the start path (the namespace itself is made outside the timer).
func BenchmarkBringUpLoopback(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		inNewNetns(b, func() {
			b.StartTimer()
			if err := bringUpLoopback(); err != nil {
				b.Error(err)
			}
			b.StopTimer()
		})
	}
}
