// Package fargate holds the task sizes AWS Fargate accepts, so that the
// parameters and the service construct refuse the same sizes, before any
// deployment. It has no dependencies.
//
// Source: Amazon ECS Developer Guide, "Task CPU and memory" (Fargate).
package fargate

import (
	"fmt"
	"sort"
	"strings"
)

// sizes maps task CPU units to the memory range in MiB and its step.
var sizes = map[int]struct{ min, max, step int }{
	256:   {512, 2048, 512},
	512:   {1024, 4096, 1024},
	1024:  {2048, 8192, 1024},
	2048:  {4096, 16384, 1024},
	4096:  {8192, 30720, 1024},
	8192:  {16384, 61440, 4096},
	16384: {32768, 122880, 8192},
}

// CheckSize returns nil when Fargate runs a task of cpu units and memory MiB,
// and otherwise an error that lists what it accepts.
func CheckSize(cpu, memory int) error {
	r, ok := sizes[cpu]
	if !ok {
		var cpus []string
		for _, c := range CPUs() {
			cpus = append(cpus, fmt.Sprint(c))
		}
		return fmt.Errorf("Fargate has no task size of %d CPU units; use one of %s (1024 is one vCPU)", cpu, strings.Join(cpus, ", "))
	}
	if cpu == 256 && memory != 512 && memory != 1024 && memory != 2048 {
		return fmt.Errorf("Fargate runs 256 CPU units with 512, 1024 or 2048 MiB of memory, not %d MiB", memory)
	}
	if memory < r.min || memory > r.max || (memory-r.min)%r.step != 0 {
		return fmt.Errorf("Fargate runs %d CPU units with %d to %d MiB of memory in steps of %d MiB, not %d MiB", cpu, r.min, r.max, r.step, memory)
	}
	return nil
}

// CPUs returns the task CPU units Fargate accepts, ascending.
func CPUs() []int {
	out := make([]int, 0, len(sizes))
	for c := range sizes {
		out = append(out, c)
	}
	sort.Ints(out)
	return out
}
