package libcontainer

import specs "github.com/opencontainers/runtime-spec/specs-go"

// initSpec is the part of the spec that the init uses, sent to it instead of the whole
// specs.Spec. encoding/json analyses every type reachable from the one it decodes (on first
// use, in each process): for specs.Spec that is all of linux.resources, seccomp, Windows,
// VM, ..., which had cost the init more CPU than anything else it did with JSON. Code on the
// init side takes *initSpec, so a field not carried here does not compile there.
type initSpec struct {
	Process     *specs.Process    `json:"process,omitempty"`
	Root        *specs.Root       `json:"root,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Domainname  string            `json:"domainname,omitempty"`
	Mounts      []specs.Mount     `json:"mounts,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Linux       initLinux         `json:"linux"`
}

// initLinux is the part of specs.Linux that the init uses.
type initLinux struct {
	Namespaces        []specs.LinuxNamespace  `json:"namespaces,omitempty"`
	Devices           []specs.LinuxDevice     `json:"devices,omitempty"`
	Sysctl            map[string]string       `json:"sysctl,omitempty"`
	MaskedPaths       []string                `json:"maskedPaths,omitempty"`
	ReadonlyPaths     []string                `json:"readonlyPaths,omitempty"`
	RootfsPropagation string                  `json:"rootfsPropagation,omitempty"`
	Personality       *specs.LinuxPersonality `json:"personality,omitempty"`
}

// newInitSpec takes the init's part of spec (whose Linux section validation guarantees).
func newInitSpec(spec *specs.Spec) *initSpec {
	s := &initSpec{
		Process: spec.Process, Root: spec.Root, Hostname: spec.Hostname, Domainname: spec.Domainname,
		Mounts: spec.Mounts, Hooks: spec.Hooks, Annotations: spec.Annotations,
	}
	if l := spec.Linux; l != nil {
		s.Linux = initLinux{
			Namespaces: l.Namespaces, Devices: l.Devices, Sysctl: l.Sysctl, MaskedPaths: l.MaskedPaths,
			ReadonlyPaths: l.ReadonlyPaths, RootfsPropagation: l.RootfsPropagation, Personality: l.Personality,
		}
	}
	return s
}
