package libcontainer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// linux.memoryPolicy (runtime-spec 1.3): the NUMA policy the init and every exec'd process
// set with set_mempolicy(2) before the workload runs. Checked as runc checks it, with its
// words in the messages ("invalid memory policy mode", "... flag", "... nodes").

var mpolModes = map[specs.MemoryPolicyModeType]uint{
	specs.MpolDefault: 0, specs.MpolPreferred: 1, specs.MpolBind: 2, specs.MpolInterleave: 3,
	specs.MpolLocal: 4, specs.MpolPreferredMany: 5, specs.MpolWeightedInterleave: 6,
}

var mpolFlags = map[specs.MemoryPolicyFlagType]uint{
	specs.MpolFNumaBalancing: 1 << 13, specs.MpolFRelativeNodes: 1 << 14, specs.MpolFStaticNodes: 1 << 15,
}

// maxMemoryNode is the highest node number a policy may name (the kernel's own limit is
// usually lower: CONFIG_NODES_SHIFT).
const maxMemoryNode = 1023

// memoryPolicy is a checked linux.memoryPolicy: the mode with its flags, and the nodes.
type memoryPolicy struct {
	mode  uint
	nodes [(maxMemoryNode + 1) / 64]uint64
	count int // nodes set
}

func parseMemoryPolicy(mp *specs.LinuxMemoryPolicy) (*memoryPolicy, error) {
	mode, ok := mpolModes[mp.Mode]
	if !ok {
		return nil, fmt.Errorf("linux.memoryPolicy.mode: invalid memory policy mode %q", mp.Mode)
	}
	p := &memoryPolicy{mode: mode}
	if err := p.parseNodes(mp.Nodes); err != nil {
		return nil, fmt.Errorf("linux.memoryPolicy.nodes: invalid memory policy nodes %q: %w", mp.Nodes, err)
	}
	for _, f := range mp.Flags {
		v, ok := mpolFlags[f]
		if !ok {
			return nil, fmt.Errorf("linux.memoryPolicy.flags: invalid memory policy flag %q", f)
		}
		p.mode |= v
	}
	switch mp.Mode {
	case specs.MpolDefault, specs.MpolLocal:
		if p.count > 0 {
			return nil, fmt.Errorf("linux.memoryPolicy.nodes: %s: memory policy mode requires 0 nodes but got %d", mp.Mode, p.count)
		}
	case specs.MpolBind, specs.MpolInterleave, specs.MpolPreferredMany, specs.MpolWeightedInterleave:
		if p.count == 0 {
			return nil, fmt.Errorf("linux.memoryPolicy.nodes: %s: memory policy mode requires at least one node but got 0", mp.Mode)
		}
	}
	return p, nil
}

// parseNodes reads a list like "0-3,7" (spaces around items and empty items are allowed, as
// in runc; a list with only empty items is not).
func (p *memoryPolicy) parseNodes(list string) error {
	if list == "" {
		return nil
	}
	members := 0
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(item, "-")
		first, err := parseNode(lo)
		if err != nil {
			return err
		}
		last := first
		if isRange {
			if last, err = parseNode(hi); err != nil {
				return err
			}
			if last < first {
				return fmt.Errorf("invalid range %s", item)
			}
		}
		for n := first; n <= last; n++ {
			if p.nodes[n/64]&(1<<(n%64)) == 0 {
				p.nodes[n/64] |= 1 << (n % 64)
				p.count++
			}
		}
		members++
	}
	if members == 0 {
		return fmt.Errorf("no nodes in %q", list)
	}
	return nil
}

func parseNode(s string) (uint, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("node %q is not a number", s)
	}
	if n > maxMemoryNode {
		return 0, fmt.Errorf("node %d is above %d, the highest supported", n, maxMemoryNode)
	}
	return uint(n), nil
}

// MemoryPolicyModes and MemoryPolicyFlags list what husk knows, for `features`.
func MemoryPolicyModes() []string { return sortedNames(mpolModes) }
func MemoryPolicyFlags() []string { return sortedNames(mpolFlags) }

func sortedNames[K ~string](m map[K]uint) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}
