package chain

import (
	"sync"

	"ccoin/ccoin/types"
)

// testFinality is a chain.Finality that finalizes and justifies what a test
// says, so that chain tests exercise how the chain follows the finality
// gadget without votes (consensus.Finality's rules are tested in consensus
// and, with votes, in the simulator).
type testFinality struct {
	mu    sync.Mutex
	final types.Checkpoint
	just  map[types.Hash]uint64
}

func (f *testFinality) Final() types.Checkpoint {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.final
}

func (f *testFinality) JustifiedBlocks() map[types.Hash]uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[types.Hash]uint64, len(f.just))
	for id, e := range f.just {
		out[id] = e
	}
	return out
}

// finalize makes block id (of the given slot) the gadget's final block.
func (f *testFinality) finalize(id types.Hash, epoch uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.final = types.Checkpoint{Epoch: epoch, ID: id}
}

// justify marks block id justified at epoch.
func (f *testFinality) justify(id types.Hash, epoch uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.just == nil {
		f.just = make(map[types.Hash]uint64)
	}
	f.just[id] = max(f.just[id], epoch)
}

// finOf returns the testFinality a test chain was opened with.
func finOf(c *Chain) *testFinality { return c.cfg.Finality.(*testFinality) }
