package cgroups

import (
	"errors"
	"fmt"
	"math"
)

// SharesToWeight converts cgroup v1 cpu.shares [2, 262144] to cgroup v2
// cpu.weight [1, 10000] with runc's current quadratic fit (runc >= 1.3),
// which maps the defaults onto each other (1024 -> 100) unlike the old linear
// formula. 0 means unset.
func SharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	if shares <= 2 {
		return 1
	}
	if shares >= 262144 {
		return 10000
	}
	l := math.Log2(float64(shares))
	exponent := (l*l+125*l)/612.0 - 7.0/34.0
	return uint64(math.Ceil(math.Pow(10, exponent)))
}

// BlkioWeightToIOWeight converts blkio.weight [10, 1000] to io.weight
// [1, 10000] as runc does.
func BlkioWeightToIOWeight(w uint16) uint64 {
	if w == 0 {
		return 0
	}
	return 1 + (uint64(w)-10)*9999/990
}

// SwapToV2 converts the spec's memory+swap total to memory.swap.max, which
// counts swap alone. -1 is "max", 0 is "unset".
func SwapToV2(swap, memory int64) (int64, error) {
	// As on v1: unlimited memory with swap unset makes swap unlimited too.
	if memory == -1 && swap == 0 {
		return -1, nil
	}
	if swap == -1 || swap == 0 {
		return swap, nil
	}
	if memory == 0 || memory == -1 {
		return 0, errors.New("linux.resources.memory.swap: cannot set a swap limit without a memory limit")
	}
	if memory < 0 {
		return 0, fmt.Errorf("linux.resources.memory.limit: invalid value %d", memory)
	}
	if swap < memory {
		return 0, fmt.Errorf("linux.resources.memory.swap: memory+swap limit %d is below the memory limit %d", swap, memory)
	}
	return swap - memory, nil
}
