package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// buildSubreaper compiles this command into a temp dir: the subreaper attribute and the
// reaping are process-wide, so they are tested on a real child process.
func buildSubreaper(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "subreaper")
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runSubreaper(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		t.Fatalf("run subreaper %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

func alive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

func TestSubreaper(t *testing.T) {
	bin := buildSubreaper(t)

	t.Run("exit status passes through", func(t *testing.T) {
		_, _, code := runSubreaper(t, bin, "sh", "-c", "exit 7")
		if code != 7 {
			t.Fatalf("exit code = %d, want 7", code)
		}
	})

	t.Run("signal death maps to 128+N", func(t *testing.T) {
		_, _, code := runSubreaper(t, bin, "sh", "-c", "kill -TERM $$")
		if code != 128+int(unix.SIGTERM) {
			t.Fatalf("exit code = %d, want %d", code, 128+int(unix.SIGTERM))
		}
	})

	t.Run("leftover orphan is killed, reaped and reported", func(t *testing.T) {
		stdout, stderr, code := runSubreaper(t, bin, "-grace", "100ms", "sh", "-c", "sleep 60 & echo $!; exit 3")
		if code != 3 {
			t.Fatalf("exit code = %d, want 3", code)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(stdout))
		if err != nil {
			t.Fatalf("orphan pid from %q: %v", stdout, err)
		}
		// subreaper reaped it before exiting, so the pid is gone, not a zombie of PID 1.
		if alive(pid) {
			unix.Kill(pid, unix.SIGKILL)
			t.Fatalf("orphan %d still exists after subreaper exited", pid)
		}
		if want := "killed leftover process " + strconv.Itoa(pid) + " (sleep)"; !strings.Contains(stderr, want) {
			t.Fatalf("stderr %q does not report %q", stderr, want)
		}
	})

	t.Run("orphan that exits within grace is waited for, not killed", func(t *testing.T) {
		start := time.Now()
		_, stderr, code := runSubreaper(t, bin, "-grace", "5s", "sh", "-c", "(sleep 0.3; exit 0) & exit 0")
		if code != 0 {
			t.Fatalf("exit code = %d, want 0", code)
		}
		if stderr != "" {
			t.Fatalf("unexpected stderr %q", stderr)
		}
		if d := time.Since(start); d < 300*time.Millisecond || d > 4*time.Second {
			t.Fatalf("took %v, want about 0.3s (waited for the orphan, did not sit out the grace)", d)
		}
	})

	t.Run("signals are forwarded to the command", func(t *testing.T) {
		cmd := exec.Command(bin, "sh", "-c", "trap 'exit 42' USR1; echo ready; while :; do sleep 0.05; done")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 6)
		if _, err := stdout.Read(buf); err != nil {
			t.Fatalf("read ready: %v", err)
		}
		if err := cmd.Process.Signal(unix.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 42 {
			t.Fatalf("wait: %v, want exit status 42", err)
		}
	})

	t.Run("missing command is an error", func(t *testing.T) {
		_, stderr, code := runSubreaper(t, bin, "/nonexistent/husktest-cmd")
		if code != 127 || !strings.Contains(stderr, "/nonexistent/husktest-cmd") {
			t.Fatalf("code %d stderr %q, want 127 naming the command", code, stderr)
		}
	})
}
