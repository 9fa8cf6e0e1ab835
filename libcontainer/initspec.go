package libcontainer

import (
	"encoding/json"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

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
	Namespaces        []specs.LinuxNamespace   `json:"namespaces,omitempty"`
	Devices           []specs.LinuxDevice      `json:"devices,omitempty"`
	Sysctl            map[string]string        `json:"sysctl,omitempty"`
	MaskedPaths       []string                 `json:"maskedPaths,omitempty"`
	ReadonlyPaths     []string                 `json:"readonlyPaths,omitempty"`
	RootfsPropagation string                   `json:"rootfsPropagation,omitempty"`
	Personality       *specs.LinuxPersonality  `json:"personality,omitempty"`
	MemoryPolicy      *specs.LinuxMemoryPolicy `json:"memoryPolicy,omitempty"`
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
			MemoryPolicy: l.MemoryPolicy,
		}
	}
	return s
}

// execInitSpec is the part of initSpec that an exec's init uses: it joins a container whose
// root, mounts, hostname and sysctls are set up already, and runs no hooks.
type execInitSpec struct {
	Process *specs.Process `json:"process"`
	Linux   struct {
		Personality  *specs.LinuxPersonality  `json:"personality,omitempty"`
		MemoryPolicy *specs.LinuxMemoryPolicy `json:"memoryPolicy,omitempty"`
	} `json:"linux"`
}

// encodeInitSpec encodes the init's part of spec: an execInitSpec for an exec.
func encodeInitSpec(spec *specs.Spec, exec bool) ([]byte, error) {
	if !exec {
		return json.Marshal(newInitSpec(spec))
	}
	var e execInitSpec
	e.Process = spec.Process
	if spec.Linux != nil {
		e.Linux.Personality = spec.Linux.Personality
		e.Linux.MemoryPolicy = spec.Linux.MemoryPolicy
	}
	return json.Marshal(&e)
}

// decodeInitSpec is the init's side of encodeInitSpec.
func decodeInitSpec(data []byte, exec bool) (*initSpec, error) {
	if !exec {
		var s initSpec
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, err
		}
		return &s, nil
	}
	var e execInitSpec
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return &initSpec{Process: e.Process, Linux: initLinux{Personality: e.Linux.Personality, MemoryPolicy: e.Linux.MemoryPolicy}}, nil
}
