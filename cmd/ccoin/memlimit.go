package main

import (
	"os"
	"runtime/debug"
)

// nodeMemoryLimit is the Go runtime's soft memory limit for each node a
// process runs, unless GOMEMLIMIT says otherwise: a node's live heap is
// 100-200 MB under load, but with the default GC pacing its RSS reached
// 491-507 MiB at twice the rate it includes (8 MiB blocks), at the 500 MiB
// a node must stay under. The limit makes the collector run before that.
const nodeMemoryLimit = 384 << 20

// setMemoryLimit applies nodeMemoryLimit for nodes nodes, unless the
// operator set GOMEMLIMIT.
func setMemoryLimit(nodes int) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(nodes) * nodeMemoryLimit)
	}
}
