package node

import (
	"sync"
	"time"
)

// importCost follows how long this node takes to import a peer's block,
// per transaction, so that its sealer builds blocks its peers (like
// machines under like load) import well within a slot, and its pool
// admits about as much as blocks take. A fixed block size cannot be right:
// at 8 MiB (12,900 transfers) the 3+1 devnet on a slower day imported
// each block in over a slot, so each leader sealed on a stale head, three
// blocks competed for every height, and throughput fell to a third.
type importCost struct {
	mu      sync.Mutex
	nsPerTx float64 // moving average; 0 until the first sample
}

const (
	// importCostMinTxs: smaller blocks are dominated by fixed costs (the
	// synced write), which would overstate the cost of a transaction.
	importCostMinTxs = 256
	// importCostWeight is the weight of the newest sample: a few blocks
	// follow a change of load, one slow import (a GC pause) does not
	// halve the next block.
	importCostWeight = 0.25
	// importSlotShare: a block's import may take this share of the slot
	// on a peer. Building costs about as much as importing, and the next
	// leader needs the block before its slot starts: build + transfer +
	// import must fit one slot.
	importSlotShare = 1.0 / 3
	// minTxBudget keeps blocks useful when every import is slow.
	minTxBudget = 500
)

// observe records the import of a block of txs transactions that took d.
func (c *importCost) observe(d time.Duration, txs int) {
	if txs < importCostMinTxs || d <= 0 {
		return
	}
	ns := float64(d.Nanoseconds()) / float64(txs)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nsPerTx == 0 {
		c.nsPerTx = ns
		return
	}
	c.nsPerTx += importCostWeight * (ns - c.nsPerTx)
}

// budget is the most transactions a block may hold to import within the
// slot's share, at least minTxBudget; 0 while nothing was measured.
func (c *importCost) budget(slot time.Duration) int {
	c.mu.Lock()
	ns := c.nsPerTx
	c.mu.Unlock()
	if ns <= 0 {
		return 0
	}
	return max(int(importSlotShare*float64(slot.Nanoseconds())/ns), minTxBudget)
}
