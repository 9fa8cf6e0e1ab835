package libcontainer

import (
	"encoding/json"
	"errors"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// specDoc is a spec as husk decodes and encodes it: specs.Spec with the sections for other
// platforms (Solaris, Windows, VM, z/OS, FreeBSD) kept as raw JSON. encoding/json analyses
// every type reachable from the one it handles, once per process; those sections are a third
// of specs.Spec's types (about 0.3 ms of CPU in each create and run) and husk, like runc on
// Linux, never reads them. TestSpecDocMatchesSpec keeps the fields in step with specs.Spec.
type specDoc struct {
	Version     string            `json:"ociVersion"`
	Process     *specs.Process    `json:"process,omitempty"`
	Root        *specs.Root       `json:"root,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Domainname  string            `json:"domainname,omitempty"`
	Mounts      []specs.Mount     `json:"mounts,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Linux       *specs.Linux      `json:"linux,omitempty"`

	Solaris json.RawMessage `json:"solaris,omitempty"`
	Windows json.RawMessage `json:"windows,omitempty"`
	VM      json.RawMessage `json:"vm,omitempty"`
	ZOS     json.RawMessage `json:"zos,omitempty"`
	FreeBSD json.RawMessage `json:"freebsd,omitempty"`
}

// checkOtherPlatforms decodes the other platforms' sections that are present into their
// types, so that a malformed one is refused by name as before (and as runc refuses it); their
// type set-up is paid only by the configs that carry them.
func (d *specDoc) checkOtherPlatforms() error {
	for _, sec := range []struct {
		name string
		raw  json.RawMessage
		v    any
	}{
		{"solaris", d.Solaris, &specs.Solaris{}}, {"windows", d.Windows, &specs.Windows{}},
		{"vm", d.VM, &specs.VM{}}, {"zos", d.ZOS, &specs.ZOS{}}, {"freebsd", d.FreeBSD, &specs.FreeBSD{}},
	} {
		if len(sec.raw) == 0 {
			continue
		}
		if err := json.Unmarshal(sec.raw, sec.v); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				// Name the field from the document's root, as for the Linux sections.
				te.Field = strings.TrimSuffix(sec.name+"."+te.Field, ".")
			}
			return err
		}
	}
	return nil
}

// spec is the Linux view of the document; the other platforms' sections are dropped.
func (d *specDoc) spec() *specs.Spec {
	return &specs.Spec{
		Version: d.Version, Process: d.Process, Root: d.Root, Hostname: d.Hostname,
		Domainname: d.Domainname, Mounts: d.Mounts, Hooks: d.Hooks, Annotations: d.Annotations,
		Linux: d.Linux,
	}
}

// marshalSpec encodes spec through specDoc (see there); other platforms' sections are not
// kept.
func marshalSpec(spec *specs.Spec) ([]byte, error) {
	return json.Marshal(&specDoc{
		Version: spec.Version, Process: spec.Process, Root: spec.Root, Hostname: spec.Hostname,
		Domainname: spec.Domainname, Mounts: spec.Mounts, Hooks: spec.Hooks, Annotations: spec.Annotations,
		Linux: spec.Linux,
	})
}
