package consensus

import (
	"math"
	"sync"
	"time"

	"ccoin/ccoin/crypto"
)

// clockSamples is how many recent offsets the monitor keeps.
const clockSamples = 32

// minClockSamples is how many fresh offsets it needs before judging.
const minClockSamples = 3

// freshSlots is how many slots a sample stays relevant: a network that
// went quiet must not keep a validator from sealing on stale evidence.
const freshSlots = 20

// maxOffsetMs bounds one sample so that absurd timestamps cannot overflow
// the arithmetic; anything near it is skewed anyway.
const maxOffsetMs = int64(1) << 52

// ClockMonitor estimates this node's clock offset from the blocks of other
// sealers: each sample is receivedAtMs - blockTimeMs.
//
// A sample is the true offset plus that block's delay (sealing, transfer,
// decoding), and delays are never negative, so the smallest sample of a
// sealer is its best estimate; late blocks under load only raise the
// others. Offset reports the per-sealer estimate closest to zero.
//
// A validator stops sealing (Skewed) only when a majority of the other
// miners, and at least two of them, each show its clock behind by more than
// a quarter slot. One peer's clock can always explain what that peer's
// blocks show: with three miners, one offline and one whose clock ran
// 280 ms fast, the correct validator's only samples said it was behind, it
// stopped, and nothing finalized. So when in doubt it keeps sealing: a
// block sealed late is only held as near-future by its receivers and loses
// fork choice, which costs liveness, never safety. The price is that a
// validator whose clock really is behind keeps sealing while fewer than a
// majority of the others are heard.
//
// Assumption: an honest leader stamps its block just before sealing and it
// usually reaches us within a quarter slot. Feed it only authentic gossip
// blocks of other sealers (never our own, never blocks fetched by sync),
// including blocks refused as future, which are the evidence of a clock
// running behind.
type ClockMonitor struct {
	mu        sync.Mutex
	threshold int64
	freshMs   int64
	needBy    int // sealers that must show us behind before Skewed
	now       func() time.Time
	ring      [clockSamples]clockSample
	n, next   int
}

type clockSample struct {
	sealer crypto.Address
	off    int64
	at     int64 // unix ms, local clock
}

// NewClockMonitor returns a monitor for slots of intervalMs on a network of
// miners miners (this validator among them).
func NewClockMonitor(intervalMs uint64, miners int) *ClockMonitor {
	iv := int64(min(intervalMs, uint64(maxOffsetMs)))
	others := max(miners-1, 0)
	need := others/2 + 1
	if others < 2 {
		need = math.MaxInt // one peer alone never stops a validator
	}
	return &ClockMonitor{threshold: iv / 4, freshMs: iv * freshSlots, needBy: need, now: time.Now}
}

// SetNow replaces the wall clock (tests).
func (c *ClockMonitor) SetNow(now func() time.Time) {
	c.mu.Lock()
	c.now = now
	c.mu.Unlock()
}

// Observe records a block of sealer stamped blockTimeMs that arrived at
// receivedAtMs (both unix ms, the latter by the local clock).
func (c *ClockMonitor) Observe(sealer crypto.Address, blockTimeMs, receivedAtMs uint64) {
	var off int64
	if receivedAtMs >= blockTimeMs {
		off = int64(min(receivedAtMs-blockTimeMs, uint64(maxOffsetMs)))
	} else {
		off = -int64(min(blockTimeMs-receivedAtMs, uint64(maxOffsetMs)))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ring[c.next] = clockSample{sealer: sealer, off: off, at: c.now().UnixMilli()}
	c.next = (c.next + 1) % clockSamples
	if c.n < clockSamples {
		c.n++
	}
}

// Offset is the estimated offset (how far the local clock appears ahead of
// the sealers', plus the smallest delay) and the number of fresh samples.
func (c *ClockMonitor) Offset() (ms int64, samples int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	est, n, _ := c.estimate()
	return est, n
}

// Skewed reports whether at least 3 fresh samples, from a majority of the
// other miners (and at least two), show this node's clock behind each of
// theirs by more than a quarter slot. Only that direction is proof: a delay
// cannot make a block look stamped in our future. A node that seals with a
// clock behind seals late, into the next leader's slot.
func (c *ClockMonitor) Skewed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, n, behind := c.estimate()
	return n >= minClockSamples && behind >= c.needBy
}

// Ahead reports whether the fresh samples put this node's clock more than a
// quarter slot ahead of the sealers'. That is either a clock running ahead
// or every other sealer's blocks arriving late, which one-way samples cannot
// tell apart: under a load beyond capacity all three validators of a devnet
// sharing one clock saw 4 s "offsets". So it is worth a warning but no
// reason to stop sealing; a block sealed early is held by its receivers as
// near-future and loses fork choice to the slot before it, which costs only
// the early sealer.
func (c *ClockMonitor) Ahead() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	est, n, _ := c.estimate()
	return n >= minClockSamples && est > c.threshold
}

// estimate returns the per-sealer estimate closest to zero, the number of
// fresh samples, and how many sealers' estimates put us behind by more
// than the threshold.
func (c *ClockMonitor) estimate() (est int64, n, behind int) {
	now := c.now().UnixMilli()
	best := make(map[crypto.Address]int64)
	for _, s := range c.ring[:c.n] {
		if now-s.at > c.freshMs {
			continue
		}
		n++
		if b, ok := best[s.sealer]; !ok || s.off < b {
			best[s.sealer] = s.off
		}
	}
	if n == 0 {
		return 0, 0, 0
	}
	first := true
	for _, v := range best {
		if first || abs(v) < abs(est) || (abs(v) == abs(est) && v < est) {
			est, first = v, false
		}
		if -v > c.threshold {
			behind++
		}
	}
	return est, n, behind
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
