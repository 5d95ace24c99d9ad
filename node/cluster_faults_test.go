package node

import (
	"testing"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// startValidators starts one validator per miner key and waits until all
// are connected, ready and past the first blocks.
func startValidators(t *testing.T, c *cluster) []*tnode {
	t.Helper()
	vals := c.validators(validatorKeys(t))
	for _, n := range vals {
		n.start()
	}
	waitPeers(t, vals...)
	waitFor(t, 20*time.Second, "validators ready and producing", func() bool {
		for _, n := range vals {
			if n.N().SyncState() != StateReady || n.height() < 3 {
				return false
			}
		}
		return true
	})
	return vals
}

// sealedSince reports whether the node's canonical chain above height from
// holds a block sealed by who in a slot after slot.
func sealedSince(t testing.TB, n *Node, from, slot uint64, who crypto.Address) (types.Hash, bool) {
	for _, b := range canonicalBlocks(t, n, from+1) {
		if b.Header.Sealer == who && b.Header.Slot > slot {
			return b.ID(), true
		}
	}
	return types.Hash{}, false
}

// One of three validators stopped: blocks keep coming and keep being
// finalized; restarted, it catches up and seals again in its slots.
func TestClusterOneValidatorDown(t *testing.T) {
	c := newCluster(t, defaultSpec(t))
	vals := startValidators(t, c)
	a, b, cc := vals[0], vals[1], vals[2]
	mon := c.monitor()

	cc.stop()
	h0, _ := a.head()
	f0 := a.finalized()
	start := time.Now()
	time.Sleep(12 * c.interval())
	waitFor(t, 10*time.Second, "progress with one validator down", func() bool {
		return a.height() >= h0.Number+6 && a.finalized() >= f0+4
	})
	h1, _ := a.head()
	t.Logf("C down for %.0f slots: %d blocks in %d slots (%.2f per slot), finalized %d -> %d",
		c.slots(time.Since(start)), h1.Number-h0.Number, h1.Slot-h0.Slot,
		float64(h1.Number-h0.Number)/float64(max(h1.Slot-h0.Slot, 1)), f0, a.finalized())
	waitConverged(t, 10*time.Second, h1.Number, a, b)

	restartHead, _ := a.head()
	restartSlot := c.g.TimeMs
	restartSlot = (uint64(time.Now().UnixMilli()) - restartSlot) / c.g.IntervalMs
	cc.start()
	waitConverged(t, 20*time.Second, restartHead.Number+3, a, b, cc)
	var id types.Hash
	waitFor(t, 20*time.Second, "C to seal a canonical block after its restart", func() bool {
		var ok bool
		id, ok = sealedSince(t, a.N(), restartHead.Number, restartSlot, cc.key.Address())
		return ok
	})
	waitFor(t, 10*time.Second, "C's new block on every node", func() bool {
		return b.N().Chain().IsCanonical(id) && cc.N().Chain().IsCanonical(id)
	})
	waitFor(t, 10*time.Second, "C's new block finalized", func() bool {
		h, err := a.N().Chain().Header(id)
		return err == nil && a.finalized() >= h.Number
	})
	for _, n := range vals {
		checkSupply(t, n.N())
	}
	mon.check(t)
}

// Two of three validators stopped: the survivor seals in its own slots but
// nothing new is finalized; when the others return the chain converges and
// finality resumes past the survivor's lone blocks.
func TestClusterTwoValidatorsDown(t *testing.T) {
	c := newCluster(t, defaultSpec(t))
	vals := startValidators(t, c)
	a, b, cc := vals[0], vals[1], vals[2]
	mon := c.monitor()

	b.stop()
	cc.stop()
	stopHead, _ := a.head()
	// Finality may still move onto the last block B or C sealed once A builds
	// on it; after A's first lone block it must stand still.
	waitFor(t, 10*time.Second, "A's first lone block", func() bool { return a.height() > stopHead.Number })
	f0 := a.finalized()
	h0 := a.height()
	time.Sleep(10 * c.interval())
	waitFor(t, 10*time.Second, "A sealing alone", func() bool { return a.height() >= h0+2 })
	h1, _ := a.head()
	if f := a.finalized(); f != f0 {
		t.Errorf("finalized height moved from %d to %d with one validator of three", f0, f)
	}
	for _, blk := range canonicalBlocks(t, a.N(), stopHead.Number+1) {
		if blk.Header.Sealer != a.key.Address() {
			t.Errorf("block %d sealed by %s while only A ran", blk.Header.Number, blk.Header.Sealer)
		}
	}
	t.Logf("A alone: %d blocks in %d slots, finalized stayed at %d (head %d)",
		h1.Number-stopHead.Number, h1.Slot-stopHead.Slot, f0, h1.Number)

	b.start()
	cc.start()
	waitConverged(t, 30*time.Second, h1.Number+3, a, b, cc)
	waitFor(t, 20*time.Second, "finality to resume past A's lone blocks on every node", func() bool {
		for _, n := range vals {
			if n.finalized() <= h1.Number {
				return false
			}
		}
		return true
	})
	t.Logf("after the return: finalized %d (A's lone blocks ended at %d)", a.finalized(), h1.Number)
	for _, n := range vals {
		checkSupply(t, n.N())
	}
	mon.check(t)
}
