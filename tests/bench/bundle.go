package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// bundles writes config.json variants of one base bundle. Every variant points at the base
// rootfs by absolute path, so all runtimes and all scenarios start the very same files.
type bundles struct {
	base   map[string]any // the base config.json, decoded generically to keep every field
	rootfs string         // absolute path of the shared rootfs
	dir    string         // where variant bundles are written
	prefix string         // cgroup name prefix, unique to this bench run
}

// variant is what a scenario changes in the base config.
type variant struct {
	args     []string // process.args
	netns    bool     // keep the network namespace
	memLimit int64    // linux.resources.memory.limit in bytes; 0 leaves it unset
}

func loadBundles(bundle, dir, prefix string) (*bundles, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("read base config: %w", err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("decode base config %s: %w", bundle, err)
	}
	root, ok := cfg["root"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("base config %s: no root object", bundle)
	}
	rootPath, _ := root["path"].(string)
	if rootPath == "" {
		return nil, fmt.Errorf("base config %s: root.path is empty", bundle)
	}
	if !filepath.IsAbs(rootPath) {
		rootPath = filepath.Join(bundle, rootPath)
	}
	rootPath, err = filepath.Abs(rootPath)
	if err != nil {
		return nil, fmt.Errorf("base config %s: root.path: %w", bundle, err)
	}
	return &bundles{base: cfg, rootfs: rootPath, dir: dir, prefix: prefix}, nil
}

// write makes bundle <dir>/<name> for variant v, with its own cgroup path named after the
// bundle so that parallel containers never share a cgroup and leftovers are easy to find.
// The changes common to all variants make the bundle acceptable to every runtime under test:
// ociVersion 1.0.2 (crun 1.8 refuses newer ones) and no cgroup namespace (runc 1.1 and crun
// 1.8 on cgroup v1 handle it differently from husk; leaving it out keeps the work the same).
func (bs *bundles) write(name string, v variant) (string, error) {
	cfg, err := deepCopy(bs.base)
	if err != nil {
		return "", err
	}
	cfg["ociVersion"] = "1.0.2"
	cfg["root"].(map[string]any)["path"] = bs.rootfs
	proc, ok := cfg["process"].(map[string]any)
	if !ok {
		return "", fmt.Errorf("base config: no process object")
	}
	proc["args"] = v.args
	proc["terminal"] = false
	linux, ok := cfg["linux"].(map[string]any)
	if !ok {
		return "", fmt.Errorf("base config: no linux object")
	}
	var kept []any
	nsList, _ := linux["namespaces"].([]any)
	for _, ns := range nsList {
		t, _ := ns.(map[string]any)["type"].(string)
		if t == "cgroup" || (t == "network" && !v.netns) {
			continue
		}
		kept = append(kept, ns)
	}
	if v.netns && !hasNamespace(kept, "network") {
		kept = append(kept, map[string]any{"type": "network"})
	}
	linux["namespaces"] = kept
	cgName := bs.prefix + name
	linux["cgroupsPath"] = "/" + cgName
	if v.memLimit > 0 {
		res, _ := linux["resources"].(map[string]any)
		if res == nil {
			res = map[string]any{}
			linux["resources"] = res
		}
		res["memory"] = map[string]any{"limit": v.memLimit}
	}
	dir := filepath.Join(bs.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("make bundle %s: %w", dir, err)
	}
	out, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return "", fmt.Errorf("encode config for %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), out, 0o644); err != nil {
		return "", fmt.Errorf("write config for %s: %w", name, err)
	}
	return dir, nil
}

func hasNamespace(list []any, typ string) bool {
	for _, ns := range list {
		if t, _ := ns.(map[string]any)["type"].(string); t == typ {
			return true
		}
	}
	return false
}

// deepCopy copies a decoded JSON value through an encode/decode round trip.
func deepCopy(m map[string]any) (map[string]any, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("copy config: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("copy config: %w", err)
	}
	return out, nil
}
