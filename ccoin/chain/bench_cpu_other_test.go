//go:build !unix

package chain

import "time"

// cpuTime is not measured on this platform; the figure reads as zero.
func cpuTime() time.Duration { return 0 }
