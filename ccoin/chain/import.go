package chain

import (
	"bytes"
	"errors"
	"fmt"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/rawdb"
	"ccoin/ccoin/state"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

// Result says what importing a block changed.
type Result struct {
	ID           types.Hash
	Header       *types.Header
	Head         bool // the block is the new head
	Reorg        *Reorg
	Finalized    *types.Header // the new finalized block, if finality advanced
	FinalizedID  types.Hash
	Touched      []crypto.Address // head-state accounts that changed
	Equivocation bool
	Included     []*types.Transaction // transactions that joined the canonical chain
}

// Reorg describes a switch of branch.
type Reorg struct {
	OldHead, NewHead types.Hash
	Depth            uint64               // abandoned canonical blocks
	Abandoned        []*types.Transaction // txs of abandoned blocks not in the new branch
}

// Better is the fork-choice order among chains with the same highest
// justified epoch (see choice.beats): true when a beats b. It is total, so
// every node picks the same head from the same set of blocks.
func Better(a *types.Header, aID types.Hash, b *types.Header, bID types.Hash) bool {
	if a.Number != b.Number {
		return a.Number > b.Number
	}
	if a.Slot != b.Slot {
		return a.Slot < b.Slot
	}
	return bytes.Compare(aID[:], bID[:]) < 0
}

func (c *Chain) nowMs() uint64 { return uint64(c.cfg.Now().UnixMilli()) }

// ImportBlock validates a block completely (header rules through the
// verifier, every transaction, the state root) and commits it. Errors from
// the verifier come back wrapped but otherwise unchanged (so a caller can
// tell a near-future block from an invalid one); the chain's own rule
// failures wrap ErrInvalidBlock.
func (c *Chain) ImportBlock(b *types.Block, raw []byte) (*Result, error) {
	id := b.ID()
	if c.HasBlock(id) {
		return nil, ErrKnownBlock
	}
	if b.Header.IsGenesis() {
		return nil, fmt.Errorf("%w: a second genesis block", ErrInvalidBlock)
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.HasBlock(id) {
		return nil, ErrKnownBlock
	}
	parent, err := c.Header(b.Header.Parent)
	if errors.Is(err, ErrNotFound) {
		c.recordRefused(b, id)
		return nil, fmt.Errorf("%w: %s", ErrUnknownParent, b.Header.Parent)
	}
	if err != nil {
		return nil, err
	}
	if err := c.checkExtendsFinal(b.Header.Parent, parent); err != nil {
		if errors.Is(err, ErrBelowFinalized) {
			c.recordRefused(b, id)
		}
		return nil, err
	}
	if err := c.cfg.Verifier.VerifyHeader(parent, b, c.nowMs()); err != nil {
		return nil, fmt.Errorf("block %d %s: %w", b.Header.Number, id, err)
	}
	if i, err := state.VerifyTxs(b.Txs, c.cfg.Keys, c.poolVerified); err != nil {
		return nil, fmt.Errorf("%w: tx %d: %w", ErrInvalidBlock, i, err)
	}
	o := state.NewOverlay(c.readerAt(b.Header.Parent, parent))
	if err := state.ApplyBlock(o, b, c.cfg.Genesis.ChainID); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidBlock, err)
	}
	changes := o.Changes()
	batch := c.db.NewBatch()
	root, err := c.tree.Update(parent.StateRoot, state.Updates(changes), state.NodeWriter(batch))
	if err != nil {
		return nil, c.corrupt("update state tree", err)
	}
	if root != b.Header.StateRoot {
		return nil, fmt.Errorf("%w: %w: header %s, computed %s", ErrInvalidBlock, ErrBadStateRoot, b.Header.StateRoot, types.Hash(root))
	}
	return c.commit(b, id, raw, changes, batch)
}

// recordRefused keeps the evidence a block carries before it is refused
// for its parent or its branch (DESIGN section 5: record first, then
// refuse): if the same sealer already has another stored block for the
// slot, both headers are recorded, once the block is shown authentic, so
// that nobody can forge evidence against a validator. It returns whether
// evidence was recorded; failures only cost the evidence.
func (c *Chain) recordRefused(b *types.Block, id types.Hash) bool {
	h := &b.Header
	first, err := rawdb.ReadSlotFirst(c.db, h.Slot, h.Sealer)
	if err != nil || len(first) != len(id) || bytes.Equal(first, id[:]) {
		return false
	}
	if err := c.cfg.Verifier.VerifyAuthor(b); err != nil {
		return false
	}
	fid := types.Hash(first)
	fh, err := c.Header(fid)
	if err != nil {
		return false
	}
	ev := c.db.NewBatch()
	rawdb.WriteEvidence(ev, h.Slot, h.Sealer, encodeEvidence(fh, h))
	if err := c.db.Write(ev, true); err != nil {
		c.log.Error("recording equivocation failed", "error", err)
		return false
	}
	c.log.Warn("equivocation: two blocks by one sealer for one slot (the second is refused)", "sealer", h.Sealer, "slot", h.Slot,
		"first", fid, "second", id)
	return true
}

// poolVerified reports whether the pool holds this exact transaction
// (same id, key and signature), whose signature it verified on entry.
func (c *Chain) poolVerified(tx *types.Transaction) bool {
	if c.cfg.Pool == nil {
		return false
	}
	p, ok := c.cfg.Pool.Get(tx.ID())
	return ok && bytes.Equal(p.Signature, tx.Signature) && bytes.Equal(p.PublicKey, tx.PublicKey)
}

// readerAt returns the state after block id: the flat table for the head,
// the state tree otherwise.
func (c *Chain) readerAt(id types.Hash, h *types.Header) state.Reader {
	c.mu.RLock()
	isHead := id == c.headID
	c.mu.RUnlock()
	if isHead {
		return flatReader{c}
	}
	return treeReader{c.tree, h.StateRoot}
}

// checkExtendsFinal refuses blocks whose branch leaves out the finalized
// block: the node never reorganises below it.
func (c *Chain) checkExtendsFinal(parentID types.Hash, parent *types.Header) error {
	final, finalID := c.Finalized()
	// The canonical chain holds the final block: a canonical parent at or
	// above it needs no walk (which, while finality stalls, grows long).
	if parent.Number >= final.Number && c.IsCanonical(parentID) {
		return nil
	}
	id, h := parentID, parent
	for h.Number > final.Number {
		id = h.Parent
		var err error
		if h, err = c.Header(id); err != nil {
			return err
		}
	}
	if h.Number != final.Number || id != finalID {
		return fmt.Errorf("%w: branch leaves finalized block %d", ErrBelowFinalized, final.Number)
	}
	return nil
}

// BuildBlock executes candidate transactions on the state after parent,
// keeps the valid ones (at most max_bound, and no more than fit in
// max_block_bytes once the block is sealed) and returns an unsealed block
// with its roots filled. The result is remembered so that ImportOwn can
// commit it without executing it again.
func (c *Chain) BuildBlock(parentID types.Hash, h types.Header, txs []*types.Transaction) (*types.Block, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	parent, err := c.Header(parentID)
	if err != nil {
		return nil, err
	}
	o := state.NewOverlay(c.readerAt(parentID, parent))
	g := c.cfg.Genesis
	kept, _ := state.BuildTxs(o, txs, g.ChainID, int(g.File.BlockMining.MaxBound), int(g.MaxBlockBytes)-types.MaxBlockOverhead)
	if err := o.Credit(h.Sealer, h.Reward); err != nil {
		return nil, err
	}
	changes := o.Changes()
	nodes := smt.NewMemStore()
	root, err := c.tree.Update(parent.StateRoot, state.Updates(changes), nodes)
	if err != nil {
		return nil, c.corrupt("update state tree", err)
	}
	b := &types.Block{Header: h, Txs: kept}
	b.Header.TxRoot = types.TxRoot(b.TxIDs())
	b.Header.StateRoot = root
	if len(c.built) > 8 {
		clear(c.built)
	}
	c.built[root] = &built{parent: parentID, txRoot: b.Header.TxRoot, changes: changes, nodes: nodes}
	return b, nil
}

// ImportOwn commits a block this node built and sealed. It skips the
// re-execution BuildBlock already did; a block whose parent or
// transactions differ from what was built falls back to a full ImportBlock.
func (c *Chain) ImportOwn(b *types.Block) (*Result, error) {
	c.writeMu.Lock()
	bl := c.built[b.Header.StateRoot]
	if bl == nil || bl.parent != b.Header.Parent || bl.txRoot != b.Header.TxRoot || types.TxRoot(b.TxIDs()) != bl.txRoot {
		c.writeMu.Unlock()
		return c.ImportBlock(b, nil)
	}
	defer c.writeMu.Unlock()
	delete(c.built, b.Header.StateRoot)
	id := b.ID()
	if c.HasBlock(id) {
		return nil, ErrKnownBlock
	}
	parent, err := c.Header(b.Header.Parent)
	if err != nil {
		return nil, err
	}
	if err := c.checkExtendsFinal(b.Header.Parent, parent); err != nil {
		return nil, err
	}
	batch := c.db.NewBatch()
	w := state.NodeWriter(batch)
	bl.nodes.Range(func(h smt.Hash, enc []byte) bool { w.PutNode(h, enc); return true })
	return c.commit(b, id, nil, bl.changes, batch)
}

// commit writes a validated block and, if it wins fork choice, moves the
// head (extending or reorganising) and finality, all in one synced batch.
func (c *Chain) commit(b *types.Block, id types.Hash, raw []byte, changes []state.Change, batch kv.Batch) (*Result, error) {
	if raw == nil {
		raw = b.Encode(nil)
	}
	// A copy, not &b.Header: the header cache keeps 65,536 headers, and a
	// pointer into the block kept each block's transactions alive with it
	// (a loaded 4-node devnet held 3.4 GB of decoded transactions).
	h := new(types.Header)
	*h = b.Header
	rawdb.WriteBlock(batch, id, raw)
	rawdb.WriteHeader(batch, id, h)
	state.WriteUndo(batch, id, changes)
	res := &Result{ID: id, Header: h}

	// One sealer, one slot: a second block is evidence; both stay valid.
	switch first, err := rawdb.ReadSlotFirst(c.db, h.Slot, h.Sealer); {
	case err == nil && !bytes.Equal(first, id[:]):
		var fid types.Hash
		copy(fid[:], first)
		if fh, err := c.Header(fid); err == nil {
			rawdb.WriteEvidence(batch, h.Slot, h.Sealer, encodeEvidence(fh, h))
			res.Equivocation = true
			c.log.Warn("equivocation: two blocks by one sealer for one slot", "sealer", h.Sealer, "slot", h.Slot, "first", fid, "second", id)
		}
	case errors.Is(err, kv.ErrNotFound):
		rawdb.WriteSlotFirst(batch, h.Slot, h.Sealer, id)
	case err != nil:
		return nil, c.corrupt("read slot index", err)
	}

	rawdb.WriteChild(batch, h.Parent, id)

	c.mu.RLock()
	head, headID, final, finalID := c.head, c.headID, c.final, c.finalID
	c.mu.RUnlock()
	best, root, seen, err := c.forkChoice(final, finalID, &pendingBlock{id: id, h: h})
	if err != nil {
		return nil, err
	}
	if err := c.moveHead(batch, best, root, head, headID, final, finalID, b, changes, res); err != nil {
		return nil, err
	}
	err = c.writeHead(batch, func() {
		c.headers.add(id, h)
		c.blocks.add(id, b)
		if res.Head || res.Finalized != nil {
			c.head, c.headID = best.h, best.id
			c.final, c.finalID = root.h, root.id
		}
	})
	if err != nil {
		c.last = lastChoice{} // walk again next time
		return nil, fmt.Errorf("commit block %d: %w", h.Number, err)
	}
	c.last = seen
	c.emit(res, headID)
	return res, nil
}

// applyForward moves the head state forward by one block's changes.
func (c *Chain) applyForward(batch kv.Batch, id types.Hash, b *types.Block, changes []state.Change, res *Result) {
	for _, ch := range changes {
		state.WriteAccount(batch, ch.Addr, ch.After)
		res.Touched = append(res.Touched, ch.Addr)
	}
	rawdb.WriteCanonicalID(batch, b.Header.Number, id)
	for i, tx := range b.Txs {
		txid := tx.ID()
		rawdb.WriteTxLocation(batch, txid, id, i)
		putAddrTx(batch, b.Header.Number, i, tx, txid)
	}
	c.pruneAddrTx(batch, b.Header.Number)
	res.Included = append(res.Included, b.Txs...)
}

// putAddrTx indexes a canonical transaction under its sender and recipient.
func putAddrTx(batch kv.Batch, number uint64, i int, tx *types.Transaction, txid types.Hash) {
	rawdb.WriteAddressTx(batch, tx.From, number, i, txid)
	if tx.To != tx.From {
		rawdb.WriteAddressTx(batch, tx.To, number, i, txid)
	}
}

func deleteAddrTx(batch kv.Batch, number uint64, i int, tx *types.Transaction) {
	rawdb.DeleteAddressTx(batch, tx.From, number, i)
	rawdb.DeleteAddressTx(batch, tx.To, number, i)
}

// reorg undoes canonical blocks back to the common ancestor and applies
// the new branch, in the same batch.
func (c *Chain) reorg(batch kv.Batch, b *types.Block, id types.Hash, changes []state.Change,
	head *types.Header, headID types.Hash, res *Result) error {
	// The new branch from the tip back to the first canonical ancestor.
	type step struct {
		id types.Hash
		h  *types.Header
	}
	var branch []step
	cur, curID := &b.Header, id
	for {
		branch = append(branch, step{curID, cur})
		pid := cur.Parent
		ph, err := c.Header(pid)
		if err != nil {
			return err
		}
		if c.IsCanonical(pid) {
			cur, curID = ph, pid
			break
		}
		cur, curID = ph, pid
	}
	ancestor := cur.Number
	touched := make(map[crypto.Address]struct{})
	inNew := make(map[types.Hash]struct{})

	// Undo, newest first, so each account ends at its value in the ancestor.
	var abandoned []*types.Transaction
	for n := head.Number; n > ancestor; n-- {
		oid, err := c.CanonicalID(n)
		if err != nil {
			return err
		}
		rec, err := c.undo(oid)
		if err != nil {
			return c.corrupt("read undo record", err)
		}
		for _, ch := range rec {
			state.WriteAccount(batch, ch.Addr, ch.Before)
			touched[ch.Addr] = struct{}{}
		}
		ob, err := c.Block(oid)
		if err != nil {
			return err
		}
		for i, tx := range ob.Txs {
			rawdb.DeleteTxLocation(batch, tx.ID())
			deleteAddrTx(batch, n, i, tx)
		}
		abandoned = append(abandoned, ob.Txs...)
		rawdb.DeleteCanonicalID(batch, n)
	}
	// Redo the new branch, oldest first.
	for i := len(branch) - 1; i >= 0; i-- {
		s := branch[i]
		var (
			blk *types.Block
			rec []state.Change
			err error
		)
		if s.id == id {
			blk, rec = b, changes
		} else {
			if blk, err = c.Block(s.id); err != nil {
				return err
			}
			if rec, err = c.undo(s.id); err != nil {
				return c.corrupt("read undo record", err)
			}
		}
		for _, ch := range rec {
			state.WriteAccount(batch, ch.Addr, ch.After)
			touched[ch.Addr] = struct{}{}
		}
		rawdb.WriteCanonicalID(batch, s.h.Number, s.id)
		for j, tx := range blk.Txs {
			txid := tx.ID()
			rawdb.WriteTxLocation(batch, txid, s.id, j)
			putAddrTx(batch, s.h.Number, j, tx, txid)
			inNew[txid] = struct{}{}
		}
		c.pruneAddrTx(batch, s.h.Number)
		res.Included = append(res.Included, blk.Txs...)
	}
	r := &Reorg{OldHead: headID, NewHead: id, Depth: head.Number - ancestor}
	for _, tx := range abandoned {
		if _, ok := inNew[tx.ID()]; !ok {
			r.Abandoned = append(r.Abandoned, tx)
		}
	}
	for a := range touched {
		res.Touched = append(res.Touched, a)
	}
	res.Reorg = r
	c.log.Warn("chain reorganised", "depth", r.Depth, "old-head", headID, "new-head", id, "number", b.Header.Number, "returned-txs", len(r.Abandoned))
	return nil
}

func (c *Chain) emit(res *Result, oldHead types.Hash) {
	if c.cfg.OnEvent == nil {
		return
	}
	head, headID := c.Head()
	if res.Reorg != nil {
		c.cfg.OnEvent(Event{Kind: "reorg", Header: head, ID: headID, OldHead: oldHead, Depth: res.Reorg.Depth})
	}
	if res.Head {
		c.cfg.OnEvent(Event{Kind: "head", Header: head, ID: headID})
	}
	if res.Finalized != nil {
		c.cfg.OnEvent(Event{Kind: "finalized", Header: res.Finalized, ID: res.FinalizedID})
	}
}
