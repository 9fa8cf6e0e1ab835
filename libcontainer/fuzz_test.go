package libcontainer

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// FuzzParseSpec feeds config.json bytes to ParseSpec (decoding and Validate). It must never
// panic, every rejection must say which field or path is wrong (or that the JSON itself does
// not parse), and an accepted config must survive a round trip through json.Marshal.
//
// `go test ./libcontainer` runs only the seeds: the real configs in testdata/configs (docker's,
// podman's, containerd's, runc's and husk's default specs), mutations of them added below, and
// the regression inputs in testdata/fuzz/FuzzParseSpec. Longer runs, on demand:
//
//	go test -run '^$' -fuzz=FuzzParseSpec -fuzztime=60s ./libcontainer
func FuzzParseSpec(f *testing.F) {
	configs, err := filepath.Glob(filepath.Join("testdata", "configs", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	if len(configs) < 4 {
		f.Fatalf("testdata/configs holds %d configs, want the engines' real ones", len(configs))
	}
	for _, path := range configs {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		for _, m := range mutateConfig(f, data) {
			f.Add(m)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := ParseSpec(data)
		if err != nil {
			if spec != nil {
				t.Fatalf("ParseSpec returned a spec together with error %v", err)
			}
			checkRejection(t, err.Error())
			return
		}
		again, err := json.Marshal(spec)
		if err != nil {
			t.Fatalf("accepted spec does not marshal: %v", err)
		}
		if _, err := ParseSpec(again); err != nil {
			t.Fatalf("accepted spec is rejected after a round trip: %v\ninput: %q", err, data)
		}
	})
}

// rejectionRe is what a rejection must start with: the JSON parser's own failure, or the
// config.json field (by its JSON name) that is wrong. An error that names nothing is a bug:
// a user with a 300-line config cannot find what to fix.
var rejectionRe = regexp.MustCompile(`^(parse config: |root\.path|process[.: ]|linux[.: ]|linux id mapping|` +
	`mounts\[\d+\]|hooks\.[a-zA-Z]+\[\d+\]|hostname: |domainname: )`)

func checkRejection(t *testing.T, msg string) {
	t.Helper()
	if !rejectionRe.MatchString(msg) {
		t.Fatalf("rejection does not name a field of config.json: %q", msg)
	}
	if strings.Contains(msg, "\n") {
		t.Fatalf("rejection spans lines: %q", msg)
	}
}

// mutateConfig derives hostile variants from one real config: wrong types, unknown enums,
// duplicates, huge and negative numbers, relative paths, NUL bytes and invalid UTF-8.
func mutateConfig(f *testing.F, data []byte) [][]byte {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		f.Fatalf("seed config does not parse: %v", err)
	}
	edits := []func(map[string]any){
		func(d map[string]any) { d["process"] = "sh" },
		func(d map[string]any) { sub(d, "process")["args"] = "sh -c true" },
		func(d map[string]any) { sub(d, "process")["args"] = []any{} },
		func(d map[string]any) { sub(d, "process")["cwd"] = "relative/dir" },
		func(d map[string]any) { sub(d, "process")["env"] = []any{"NOEQUALS"} },
		func(d map[string]any) { sub(d, "process")["oomScoreAdj"] = 5000 },
		func(d map[string]any) { sub(d, "process")["user"] = map[string]any{"uid": -1, "gid": 0} },
		func(d map[string]any) {
			sub(d, "process")["rlimits"] = []any{map[string]any{"type": "RLIMIT_BOGUS", "hard": 1, "soft": 1}}
		},
		func(d map[string]any) {
			sub(d, "process")["rlimits"] = []any{map[string]any{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 2}}
		},
		func(d map[string]any) {
			sub(d, "process")["capabilities"] = map[string]any{"bounding": []any{"CAP_NOT_A_CAP"}}
		},
		func(d map[string]any) { d["root"] = map[string]any{"path": ""} },
		func(d map[string]any) { d["root"] = map[string]any{"path": 7} },
		func(d map[string]any) { d["hostname"] = strings.Repeat("h", 1<<16) },
		func(d map[string]any) { d["hostname"] = "bad\x00name" },
		func(d map[string]any) { d["mounts"] = []any{map[string]any{"destination": "../etc", "type": "tmpfs"}} },
		func(d map[string]any) {
			d["mounts"] = []any{map[string]any{"destination": "/x", "type": "tmpfs", "options": []any{"nosuid\x00"}}}
		},
		func(d map[string]any) { d["mounts"] = []any{map[string]any{"destination": "/x"}} },
		func(d map[string]any) { sub(d, "linux")["namespaces"] = []any{map[string]any{"type": "bogus"}} },
		func(d map[string]any) {
			sub(d, "linux")["namespaces"] = []any{map[string]any{"type": "mount"}, map[string]any{"type": "mount"}}
		},
		func(d map[string]any) { sub(d, "linux")["namespaces"] = []any{map[string]any{"type": "pid"}} },
		func(d map[string]any) { sub(d, "linux")["rootfsPropagation"] = "sideways" },
		func(d map[string]any) {
			sub(d, "linux")["devices"] = []any{map[string]any{"path": "/dev/x", "type": "q", "major": 1, "minor": 3}}
		},
		func(d map[string]any) {
			sub(d, "linux")["devices"] = []any{map[string]any{"path": "/etc/passwd", "type": "c", "major": 1, "minor": 3}}
		},
		func(d map[string]any) { sub(d, "linux")["sysctl"] = map[string]any{"kernel.panic": "1"} },
		func(d map[string]any) { sub(d, "linux")["maskedPaths"] = []any{"proc/kcore"} },
		func(d map[string]any) {
			sub(d, "linux")["resources"] = map[string]any{"memory": map[string]any{"limit": -12345}}
		},
		func(d map[string]any) {
			sub(d, "linux")["resources"] = map[string]any{"pids": map[string]any{"limit": "many"}}
		},
		func(d map[string]any) {
			sub(d, "linux")["seccomp"] = map[string]any{"defaultAction": "SCMP_ACT_NOPE", "syscalls": []any{}}
		},
		func(d map[string]any) {
			sub(d, "linux")["seccomp"] = map[string]any{"defaultAction": "SCMP_ACT_ALLOW",
				"architectures": []any{"SCMP_ARCH_Z80"}}
		},
		func(d map[string]any) {
			sub(d, "linux")["uidMappings"] = []any{map[string]any{"containerID": 0, "hostID": 1000, "size": 0}}
		},
		func(d map[string]any) { sub(d, "linux")["timeOffsets"] = map[string]any{"realtime": map[string]any{}} },
		func(d map[string]any) {
			d["hooks"] = map[string]any{"prestart": []any{map[string]any{"path": "hook", "timeout": 0}}}
		},
		func(d map[string]any) { d["linux"] = nil },
	}
	var out [][]byte
	for _, edit := range edits {
		var copyDoc map[string]any
		if err := json.Unmarshal(data, &copyDoc); err != nil {
			f.Fatal(err)
		}
		edit(copyDoc)
		b, err := json.Marshal(copyDoc)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	// Byte-level damage json.Marshal cannot produce.
	out = append(out,
		data[:len(data)/2],
		append(append([]byte{}, data...), []byte(`{}`)...),
		bytes.Replace(data, []byte(`"/"`), []byte("\"/\xff\xfe\""), 1),
		bytes.Replace(data, []byte(`{`), []byte(`[`), 1),
	)
	return out
}

// sub returns doc[key] as an object, creating it when the config has none.
func sub(doc map[string]any, key string) map[string]any {
	m, ok := doc[key].(map[string]any)
	if !ok {
		m = map[string]any{}
		doc[key] = m
	}
	return m
}
