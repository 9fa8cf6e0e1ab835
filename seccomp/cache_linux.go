package seccomp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// libseccomp 2.5 takes tens of milliseconds to compile a profile the size of
// Docker's, more than a whole container start should cost, while engines
// send the same few profiles again and again. CompileCached keeps compiled
// filters in a directory (crun keeps a similar cache).

// cacheEntry is what a cache file holds.
type cacheEntry struct {
	Filter   *Filter  `json:"filter"`
	Warnings []string `json:"warnings,omitempty"`
}

// CompileCached is Compile with a cache of its results in dir, which must be
// a directory only root can write (e.g. under the husk root): a filter read
// from it is trusted. An entry is keyed by a hash of the seccomp section, the
// husk executable (device, inode, size, mtime), libseccomp's version and the
// running kernel, since each may change the result. A failure to use the
// cache is not fatal: the filter is compiled and the failure comes back as a
// warning.
func CompileCached(s *specs.LinuxSeccomp, dir string) (*Filter, []string, error) {
	if s == nil || disabled(s) {
		return nil, nil, nil
	}
	key, err := cacheKey(s)
	if err != nil {
		f, w, cerr := Compile(s)
		return f, append(w, "seccomp cache not used: "+err.Error()), cerr
	}
	path := filepath.Join(dir, key+".json")
	var cacheWarnings []string
	entry, err := readCacheEntry(path)
	switch {
	case err == nil:
		return entry.Filter, entry.Warnings, nil
	case !errors.Is(err, os.ErrNotExist):
		cacheWarnings = append(cacheWarnings, "seccomp cache entry ignored: "+err.Error())
	}

	f, warnings, err := Compile(s)
	if err != nil {
		return nil, nil, err
	}
	if err := writeCacheEntry(dir, path, cacheEntry{Filter: f, Warnings: warnings}); err != nil {
		cacheWarnings = append(cacheWarnings, "seccomp cache not updated: "+err.Error())
	}
	return f, append(warnings, cacheWarnings...), nil
}

func cacheKey(s *specs.LinuxSeccomp) (string, error) {
	var exe unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &exe); err != nil {
		return "", fmt.Errorf("stat /proc/self/exe: %w", err)
	}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return "", fmt.Errorf("uname: %w", err)
	}
	spec, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("encode linux.seccomp: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "husk seccomp cache 1\nexe %d %d %d %d.%d\nlibseccomp %s\nkernel %s %s\n",
		exe.Dev, exe.Ino, exe.Size, exe.Mtim.Sec, exe.Mtim.Nsec, Version(),
		unix.ByteSliceToString(uts.Release[:]), unix.ByteSliceToString(uts.Version[:]))
	h.Write(spec)
	return hex.EncodeToString(h.Sum(nil)), nil
}

func readCacheEntry(path string) (*cacheEntry, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	// Only trust what this user wrote and nobody else could change.
	if st.Mode&unix.S_IFMT != unix.S_IFREG || int(st.Uid) != os.Geteuid() || st.Mode&0o022 != 0 {
		return nil, fmt.Errorf("%s: not a regular file owned by uid %d and writable only by it", path, os.Geteuid())
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var e cacheEntry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	if e.Filter == nil {
		return nil, fmt.Errorf("%s: no filter", path)
	}
	if _, err := decode(e.Filter.Program); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &e, nil
}

// writeCacheEntry writes through a temporary file and a rename, so readers
// see a whole entry or none.
func writeCacheEntry(dir, path string, e cacheEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode cache entry: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return nil
}
