package main

import (
	"encoding/json"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/capabilities"
	"github.com/husk-runtime/husk/libcontainer"
	"github.com/husk-runtime/husk/seccomp"
)

var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "print what this husk implements, as runtime-spec features JSON",
	Action: func(c *cli.Context) error {
		yes, no := true, false
		opts := libcontainer.MountOptionNames()
		sort.Strings(opts)
		f := features.Features{
			OCIVersionMin: "1.0.0",
			OCIVersionMax: specs.Version,
			Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
			MountOptions:  opts,
			Linux: &features.Linux{
				Namespaces:   []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"},
				Capabilities: capabilities.KnownNames(),
				Cgroup:       &features.Cgroup{V1: &yes, V2: &yes, Systemd: &yes, SystemdUser: &yes, Rdma: &yes},
				Seccomp: &features.Seccomp{
					Enabled:        &yes,
					Actions:        seccomp.KnownActions(),
					Operators:      seccomp.KnownOperators(),
					Archs:          seccomp.KnownArchs(),
					KnownFlags:     seccomp.KnownFlags(),
					SupportedFlags: seccomp.SupportedFlags(),
				},
				// "enabled" is whether the support is compiled in, not whether this host has
				// the LSM (runtime-spec features.md): husk always has both. On a host without
				// them an AppArmor profile and SELinux labels are refused.
				Apparmor:        &features.Apparmor{Enabled: &yes},
				Selinux:         &features.Selinux{Enabled: &yes},
				IntelRdt:        &features.IntelRdt{Enabled: &no},
				MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &yes}},
				NetDevices:      &features.NetDevices{Enabled: &no},
				MemoryPolicy: &features.MemoryPolicy{
					Modes: libcontainer.MemoryPolicyModes(),
					Flags: libcontainer.MemoryPolicyFlags(),
				},
			},
			Annotations: map[string]string{
				"io.github.husk-runtime.husk.version":    version,
				"io.github.husk-runtime.husk.commit":     gitCommit,
				"io.github.husk-runtime.husk.libseccomp": seccomp.Version(),
				// Engines look for runc's key (crun sets it too): checkpoint and restore
				// are built in; they need criu on the host to work.
				"org.opencontainers.runc.checkpoint.enabled": "true",
			},
			// The annotation naming the criu configuration file of a container.
			PotentiallyUnsafeConfigAnnotations: []string{"org.criu.config"},
		}
		out, err := json.MarshalIndent(f, "", "    ")
		if err != nil {
			return err
		}
		_, err = c.App.Writer.Write(append(out, '\n'))
		return err
	},
}
