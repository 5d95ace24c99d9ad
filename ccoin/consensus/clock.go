package consensus

import (
	"slices"
	"sync"
)

// clockSamples is how many recent offsets the monitor keeps.
const clockSamples = 15

// minClockSamples is how many offsets it needs before judging.
const minClockSamples = 3

// maxOffsetMs bounds one sample so that absurd timestamps cannot overflow
// the arithmetic; anything near it is skewed anyway.
const maxOffsetMs = int64(1) << 52

// ClockMonitor estimates this node's clock offset from the blocks of other
// sealers: each sample is receivedAtMs - blockTimeMs, the median of the last
// 15 is the estimate.
//
// Assumption: an honest leader stamps its block at its slot start and the
// block reaches us (sealing + propagation) well under a quarter slot later.
// Then with correct clocks every sample is small and positive; a median
// beyond ±interval/4 means our clock (or most other sealers') is off, and a
// validator should not seal on it. The median tolerates a minority of
// lying or slow sealers.
//
// Feed it only new blocks of other sealers pushed by gossip, never our own
// and never blocks fetched by sync (their age is not skew), and only
// authentic ones (whose seal verified, see Engine.VerifySeal) — including
// blocks refused as future or far future, which are exactly the evidence
// of a clock running behind.
type ClockMonitor struct {
	mu        sync.Mutex
	threshold int64
	ring      [clockSamples]int64
	n, next   int
}

// NewClockMonitor returns a monitor for slots of intervalMs.
func NewClockMonitor(intervalMs uint64) *ClockMonitor {
	return &ClockMonitor{threshold: int64(min(intervalMs, uint64(maxOffsetMs)) / 4)}
}

// Observe records a block stamped blockTimeMs that arrived at receivedAtMs
// (both unix ms, the latter by the local clock).
func (c *ClockMonitor) Observe(blockTimeMs, receivedAtMs uint64) {
	var off int64
	if receivedAtMs >= blockTimeMs {
		off = int64(min(receivedAtMs-blockTimeMs, uint64(maxOffsetMs)))
	} else {
		off = -int64(min(blockTimeMs-receivedAtMs, uint64(maxOffsetMs)))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ring[c.next] = off
	c.next = (c.next + 1) % clockSamples
	if c.n < clockSamples {
		c.n++
	}
}

// Offset is the median sample (how far the local clock appears ahead of
// the sealers', plus propagation delay) and the number of samples held.
func (c *ClockMonitor) Offset() (ms int64, samples int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.median(), c.n
}

// Skewed reports whether at least 3 samples exist and the median offset
// exceeds a quarter slot either way.
func (c *ClockMonitor) Skewed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n < minClockSamples {
		return false
	}
	m := c.median()
	return m > c.threshold || -m > c.threshold
}

func (c *ClockMonitor) median() int64 {
	if c.n == 0 {
		return 0
	}
	s := slices.Clone(c.ring[:c.n])
	slices.Sort(s)
	if c.n%2 == 1 {
		return s[c.n/2]
	}
	return (s[c.n/2-1] + s[c.n/2]) / 2
}
