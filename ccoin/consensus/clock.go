package consensus

import (
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
// others. The monitor takes each sealer's smallest fresh sample and uses
// the one closest to zero: one honest sealer whose blocks arrive on time is
// enough to show our clock is fine, so a lying or slow minority cannot stop
// a validator from sealing. The price is that a liar could hide a real skew,
// which costs liveness (blocks held as future), never safety.
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
	now       func() time.Time
	ring      [clockSamples]clockSample
	n, next   int
}

type clockSample struct {
	sealer crypto.Address
	off    int64
	at     int64 // unix ms, local clock
}

// NewClockMonitor returns a monitor for slots of intervalMs.
func NewClockMonitor(intervalMs uint64) *ClockMonitor {
	iv := int64(min(intervalMs, uint64(maxOffsetMs)))
	return &ClockMonitor{threshold: iv / 4, freshMs: iv * freshSlots, now: time.Now}
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
	return c.estimate()
}

// Skewed reports whether at least 3 fresh samples show this node's clock
// behind the sealers' by more than a quarter slot. Only that direction is
// proof: a delay cannot make a block look stamped in our future. A node
// that seals with a clock behind seals late, into the next leader's slot.
func (c *ClockMonitor) Skewed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	est, n := c.estimate()
	return n >= minClockSamples && -est > c.threshold
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
	est, n := c.estimate()
	return n >= minClockSamples && est > c.threshold
}

func (c *ClockMonitor) estimate() (int64, int) {
	now := c.now().UnixMilli()
	best := make(map[crypto.Address]int64)
	n := 0
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
		return 0, 0
	}
	var est int64
	first := true
	for _, v := range best {
		if first || abs(v) < abs(est) || (abs(v) == abs(est) && v < est) {
			est, first = v, false
		}
	}
	return est, n
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
