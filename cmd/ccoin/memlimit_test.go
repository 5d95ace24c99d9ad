package main

import (
	"runtime/debug"
	"testing"
)

// Each node a process runs gets nodeMemoryLimit of soft memory limit,
// unless the operator set GOMEMLIMIT.
func TestSetMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	for _, tc := range []struct {
		env   string
		nodes int
		want  int64
	}{
		{"", 1, nodeMemoryLimit},
		{"", 4, 4 * nodeMemoryLimit},
		{"1GiB", 4, 12345}, // left as it was
	} {
		t.Setenv("GOMEMLIMIT", tc.env)
		debug.SetMemoryLimit(12345)
		setMemoryLimit(tc.nodes)
		if got := debug.SetMemoryLimit(-1); got != tc.want {
			t.Errorf("GOMEMLIMIT=%q, %d nodes: limit %d, want %d", tc.env, tc.nodes, got, tc.want)
		}
	}
}
