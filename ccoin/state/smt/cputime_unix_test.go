//go:build unix

package smt

import (
	"syscall"
	"time"
)

// processCPU is the process's user+system CPU time. Benchmarks report it
// per op beside wall time, which a shared machine inflates.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
