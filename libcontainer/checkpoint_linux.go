package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// CheckpointOpts are the checkpoint flags (runc's).
type CheckpointOpts struct {
	CriuOpts
	ParentPath      string // a previous (pre-)dump, relative to ImagePath
	LeaveRunning    bool
	PreDump         bool
	TCPSkipInFlight bool
	LinkRemap       bool
	Status          *os.File // with LazyPages: written a \0 once the pages can be served; nil: none
	// PageServerAddr, PageServerPort: the page server the dump sends the memory to; with
	// LazyPages, where criu's own page server listens for the lazy-pages daemon instead.
	PageServerAddr string
	PageServerPort int32
}

// ErrDumped marks a checkpoint whose images were written completely before criu failed:
// the container's processes are gone.
type ErrDumped struct{ Err error }

func (e *ErrDumped) Error() string {
	return e.Err.Error() + " (the images were written completely and the container's processes were stopped)"
}
func (e *ErrDumped) Unwrap() error { return e.Err }

// Checkpoint dumps the container's processes into o.ImagePath with criu. Unless LeaveRunning
// or PreDump, criu stops them once the images are complete (the caller then deletes the
// container, as runc does). A failure before that leaves the container running.
func (c *Container) Checkpoint(o CheckpointOpts) error {
	if st := c.Status(); st != Running && st != Paused {
		return fmt.Errorf("container %s cannot be checkpointed in %s state", c.State.ID, st)
	}
	criu, err := setupCriu("checkpoint", o.CriuOpts)
	if err != nil {
		return err
	}
	spec, err := c.State.Spec()
	if err != nil {
		return err
	}
	// Since a container can be checkpointed again, the directory may exist.
	if err := os.MkdirAll(o.ImagePath, 0o700); err != nil {
		return fmt.Errorf("--image-path: %w", err)
	}
	typ := rpc.CriuReqType_DUMP
	if o.PreDump {
		typ = rpc.CriuReqType_PRE_DUMP
		if err := criuFeatureCheck(criu.path, &rpc.CriuFeatures{MemTrack: new(true)}); err != nil {
			return fmt.Errorf("--pre-dump: %w", err)
		}
	}
	opts := o.rpcOpts(&criu.cgMode, dumpLog, spec.Annotations)
	opts.Root = new(c.State.Rootfs)
	opts.Pid = new(int32(c.State.InitPid))
	opts.LeaveRunning = new(o.LeaveRunning)
	opts.TcpSkipInFlight = new(o.TCPSkipInFlight)
	opts.LinkRemap = new(o.LinkRemap)
	closeDirs, err := criuDirs(o.CriuOpts, opts)
	if err != nil {
		return err
	}
	defer closeDirs()
	if err := externalNamespaces(opts, spec, criu); err != nil {
		return err
	}
	if dir := c.freezerCgroup(); dir != "" && (criu.version >= criuFreezerV2 || dir != c.State.CgroupPaths[""]) {
		opts.FreezeCgroup = new(dir)
	}
	if o.PageServerAddr != "" {
		opts.Ps = &rpc.CriuPageServerInfo{Address: new(o.PageServerAddr), Port: new(o.PageServerPort)}
	}
	if o.ParentPath != "" {
		opts.ParentImg = new(o.ParentPath)
		opts.TrackMem = new(true)
	}
	var status *os.File // written a \0 at the status-ready notification (criu 3.15+)
	var extra []*os.File
	if o.LazyPages {
		if err := criuFeatureCheck(criu.path, &rpc.CriuFeatures{LazyPages: new(true)}); err != nil {
			return fmt.Errorf("--lazy-pages: %w", err)
		}
		if o.Status != nil {
			// Closed at the latest at the end: a reader must not wait on husk's copy.
			defer o.Status.Close()
			if criu.version >= criuStatusNotify {
				status = o.Status
			} else {
				// Older criu writes it itself: it gets the fd as its fd 4.
				extra = append(extra, o.Status)
				opts.StatusFd = new(int32(4))
			}
		}
	}
	if !o.PreDump {
		// What a pre-dump leaves out: the final dump restores from these.
		if err := dumpExtMounts(opts, spec, c.State.Rootfs, c.State.InitPid); err != nil {
			return err
		}
		if err := c.writeDescriptors(o.ImagePath); err != nil {
			return err
		}
	}
	dumped := false
	s := &swrk{path: criu.path, extra: extra, notify: func(script string, _ int32, fds []int) error {
		closeFds(fds)
		switch script {
		case "post-dump":
			dumped = true
		case "status-ready":
			if status != nil {
				status.Write([]byte{0})
				status.Close()
				status = nil
			}
		}
		return nil
	}}
	_, err = s.run(&rpc.CriuReq{Type: &typ, Opts: opts})
	if err != nil {
		err = fmt.Errorf("checkpoint %s: %w", c.State.ID, explainCriu(criu.path, err, o.logPath(dumpLog)))
		if dumped && !o.LeaveRunning && !o.PreDump {
			return &ErrDumped{Err: err}
		}
		return err
	}
	return nil
}

// RemoveDumped deletes the container after a checkpoint stopped its processes, as runc does.
// The dump runs without the container lock (it changes nothing husk records); the delete takes
// it and removes only the container that was dumped: a delete (and a create of the same id)
// may have come in between.
func (c *Container) RemoveDumped() error {
	pid, start := c.State.InitPid, c.State.InitStartTime
	if err := c.Lock(); err != nil {
		if errors.Is(err, ErrNotExist) {
			return nil
		}
		return err
	}
	if c.State.InitPid != pid || c.State.InitStartTime != start {
		return nil
	}
	return c.Destroy(true)
}

// externalNamespaces names the network and PID namespaces the container joined (a path in
// its config) as external: criu leaves them out, and restore joins them again.
func externalNamespaces(opts *rpc.CriuOpts, spec *specs.Spec, criu *criuSetup) error {
	for _, ns := range spec.Linux.Namespaces {
		external, err := criu.externalNS(ns)
		if err != nil {
			return err
		}
		if !external {
			continue
		}
		kind := criuNSNames[ns.Type]
		var st unix.Stat_t
		if err := unix.Stat(ns.Path, &st); err != nil {
			return fmt.Errorf("linux.namespaces: %s namespace %s: %w", kind, ns.Path, err)
		}
		opts.External = append(opts.External, fmt.Sprintf("%s[%d]:%s", kind, st.Ino, criuNSKey(kind)))
	}
	return nil
}

// freezerCgroup is the cgroup criu freezes the container with: the v1 freezer, else the
// cgroup2 directory (which criu 3.14 and later can freeze).
func (c *Container) freezerCgroup() string {
	if dir, ok := c.State.CgroupPaths["freezer"]; ok {
		return dir
	}
	return c.State.CgroupPaths[""]
}

// writeDescriptors records the container's stdio in the images (see descriptorsFile): what
// its caller gave it at create (or restore), else what its init holds now.
func (c *Container) writeDescriptors(imagePath string) error {
	fds := c.State.ExternalFds
	if len(fds) == 0 {
		fds = stdioLinks(c.State.InitPid)
	}
	data, err := json.Marshal(fds)
	if err != nil {
		return err
	}
	path := filepath.Join(imagePath, descriptorsFile)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
