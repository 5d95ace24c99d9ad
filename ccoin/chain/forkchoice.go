package chain

import (
	"bytes"
	"fmt"
	"maps"

	"ccoin/ccoin/kv"
	"ccoin/ccoin/rawdb"
	"ccoin/ccoin/state"
	"ccoin/ccoin/types"
)

// Finality is the vote-based finality gadget (consensus.Finality) as the
// chain sees it: the newest final checkpoint, and the blocks of justified
// checkpoints with their highest epochs.
type Finality interface {
	Final() types.Checkpoint
	JustifiedBlocks() map[types.Hash]uint64
}

// ReadOnly is the Finality of a chain opened only to be read (a tool that
// exports a snapshot, a probe of the height): it reports no final or
// justified checkpoint, so the stored final block stays final and fork
// choice falls back to height, slot and id. A node that imports blocks
// uses consensus.Finality.
type ReadOnly struct{}

// Final implements Finality: nothing beyond the stored final block.
func (ReadOnly) Final() types.Checkpoint { return types.Checkpoint{} }

// JustifiedBlocks implements Finality: none known.
func (ReadOnly) JustifiedBlocks() map[types.Hash]uint64 { return nil }

// choice is a fork-choice candidate: a tip and the highest justified
// epoch lying on its chain.
type choice struct {
	id     types.Hash
	h      *types.Header
	jEpoch uint64
}

// beats is DESIGN section 5's order after "contains the final block": the
// highest justified epoch on the chain, then height, then the lower head
// slot, then the lower id.
func (a choice) beats(b choice) bool {
	if a.jEpoch != b.jEpoch {
		return a.jEpoch > b.jEpoch
	}
	return Better(a.h, a.id, b.h, b.id)
}

// pendingBlock is a block being committed, not yet readable from the
// database: fork choice sees it as if it were.
type pendingBlock struct {
	id types.Hash
	h  *types.Header
}

// children lists the stored children of id, plus the pending block.
func (c *Chain) children(id types.Hash, extra *pendingBlock) ([]types.Hash, error) {
	out, err := rawdb.ReadChildren(c.db, id)
	if err != nil {
		return nil, c.corrupt("read block tree", err)
	}
	if extra != nil && extra.h.Parent == id {
		out = append(out, extra.id)
	}
	return out, nil
}

// finalRoot is the block fork choice starts from: the gadget's final block
// when this node has it and it extends the local final block, else the
// local final block.
func (c *Chain) finalRoot(final *types.Header, finalID types.Hash, extra *pendingBlock) (types.Hash, *types.Header) {
	cp := c.cfg.Finality.Final()
	if cp.ID == finalID {
		return finalID, final
	}
	h, err := c.headerOr(cp.ID, extra)
	if err != nil || h.Number <= final.Number {
		return finalID, final
	}
	// It must descend from the local final block; a certificate for a
	// conflicting block means the fault bound was broken: keep ours, loudly.
	id, cur := cp.ID, h
	for cur.Number > final.Number {
		id = cur.Parent
		if cur, err = c.headerOr(id, extra); err != nil {
			return finalID, final
		}
	}
	if id != finalID {
		c.log.Error("finality certificate names a block that conflicts with the local final block",
			"certified", cp.ID, "certified-number", h.Number, "local-final", finalID, "local-final-number", final.Number)
		return finalID, final
	}
	return cp.ID, h
}

func (c *Chain) headerOr(id types.Hash, extra *pendingBlock) (*types.Header, error) {
	if extra != nil && id == extra.id {
		return extra.h, nil
	}
	return c.Header(id)
}

// lastChoice remembers the last committed fork choice and the finality it
// saw, so that a block extending the head while finality stands still needs
// no walk of the block tree: a syncing node imports thousands of blocks
// above its final block (it cannot use a certificate's final block before
// it has it), and walking them all for each made sync quadratic. Guarded
// by writeMu.
type lastChoice struct {
	valid      bool
	final      types.Checkpoint      // Finality.Final()
	just       map[types.Hash]uint64 // Finality.JustifiedBlocks()
	best, root choice
}

// forkChoice returns the best tip and the root (the new final block), and
// what the caller records in c.last once it committed them.
func (c *Chain) forkChoice(final *types.Header, finalID types.Hash, extra *pendingBlock) (best choice, root choice, seen lastChoice, err error) {
	cp := c.cfg.Finality.Final()
	just := c.cfg.Finality.JustifiedBlocks()
	seen = lastChoice{valid: true, final: cp, just: just}
	// The fast path: the block extends the last best tip, under the same
	// root and the same justified blocks. Every other tip lost to that one
	// and is unchanged, and the new block beats it (its chain's justified
	// epoch is at least that tip's, and it is one block higher), so it is
	// the best; the root cannot change unless the block is the gadget's
	// final block.
	if l := c.last; l.valid && extra != nil && extra.h.Parent == l.best.id && l.root.id == finalID &&
		cp == l.final && extra.id != cp.ID && maps.Equal(just, l.just) {
		e := l.best.jEpoch
		if je, ok := just[extra.id]; ok && je > e {
			e = je
		}
		best = choice{id: extra.id, h: extra.h, jEpoch: e}
		seen.best, seen.root = best, l.root
		return best, l.root, seen, nil
	}
	best, root, err = c.walk(final, finalID, extra, just)
	seen.best, seen.root = best, root
	return best, root, seen, err
}

// walk walks the block tree from the final root and returns the best tip
// and the root (the new final block).
func (c *Chain) walk(final *types.Header, finalID types.Hash, extra *pendingBlock, just map[types.Hash]uint64) (best choice, root choice, err error) {
	rootID, rootH := c.finalRoot(final, finalID, extra)
	root = choice{id: rootID, h: rootH, jEpoch: just[rootID]}
	best = root
	type item struct{ choice }
	stack := []item{{root}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		kids, err := c.children(it.id, extra)
		if err != nil {
			return best, root, err
		}
		if len(kids) == 0 && it.beats(best) {
			best = it.choice
		}
		for _, k := range kids {
			h, err := c.headerOr(k, extra)
			if err != nil {
				return best, root, err
			}
			e := it.jEpoch
			if je, ok := just[k]; ok && je > e {
				e = je
			}
			stack = append(stack, item{choice{id: k, h: h, jEpoch: e}})
		}
	}
	return best, root, nil
}

// moveHead switches the head to best (reorganising if needed) and the
// final block to root, in batch. b/changes are the block being committed
// (nil for Refresh).
func (c *Chain) moveHead(batch kv.Batch, best, root choice, head *types.Header, headID types.Hash,
	final *types.Header, finalID types.Hash, b *types.Block, changes []state.Change, res *Result) error {
	if best.id != headID {
		res.Head = true
		switch {
		case b != nil && best.id == b.ID() && b.Header.Parent == headID:
			c.applyForward(batch, best.id, b, changes, res)
		default:
			tip, tipChanges := b, changes
			if b == nil || best.id != b.ID() {
				var err error
				if tip, err = c.Block(best.id); err != nil {
					return err
				}
				if tipChanges, err = c.undo(best.id); err != nil {
					return c.corrupt("read undo record", err)
				}
			}
			if err := c.reorg(batch, tip, best.id, tipChanges, head, headID, res); err != nil {
				return err
			}
		}
		rawdb.WriteHeadID(batch, best.id)
	}
	if root.id != finalID {
		// Undo records at or below the new final block are never needed:
		// no reorganisation reaches them.
		id, h := root.id, root.h
		for h.Number > final.Number {
			id = h.Parent
			var err error
			if h, err = c.Header(id); err != nil {
				return err
			}
			state.DeleteUndo(batch, id)
		}
		rawdb.WriteFinalizedID(batch, root.id)
		res.Finalized, res.FinalizedID = root.h, root.id
	}
	return nil
}

// Refresh re-runs fork choice and finality after the finality gadget
// learned something (a justified or final checkpoint) without a new block.
// It returns nil when nothing changed.
func (c *Chain) Refresh() (*Result, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.mu.RLock()
	head, headID, final, finalID := c.head, c.headID, c.final, c.finalID
	c.mu.RUnlock()
	best, root, seen, err := c.forkChoice(final, finalID, nil)
	if err != nil {
		return nil, err
	}
	if best.id == headID && root.id == finalID {
		c.last = seen
		return nil, nil
	}
	res := &Result{ID: best.id, Header: best.h}
	batch := c.db.NewBatch()
	if err := c.moveHead(batch, best, root, head, headID, final, finalID, nil, nil, res); err != nil {
		return nil, err
	}
	err = c.writeHead(batch, func() {
		if res.Head {
			c.head, c.headID = best.h, best.id
		}
		if res.Finalized != nil {
			c.final, c.finalID = root.h, root.id
		}
	})
	if err != nil {
		c.last = lastChoice{} // walk again next time
		return nil, fmt.Errorf("commit fork choice: %w", err)
	}
	c.last = seen
	c.emit(res, headID)
	return res, nil
}

// IsAncestor reports whether block a is b or one of b's ancestors.
func (c *Chain) IsAncestor(a, b types.Hash) (bool, error) {
	ah, err := c.Header(a)
	if err != nil {
		return false, err
	}
	bh, err := c.Header(b)
	if err != nil {
		return false, err
	}
	for bh.Number > ah.Number {
		b = bh.Parent
		if bh, err = c.Header(b); err != nil {
			return false, err
		}
	}
	return bytes.Equal(a[:], b[:]), nil
}
