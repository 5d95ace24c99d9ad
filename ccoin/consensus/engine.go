package consensus

import (
	"context"
	"fmt"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

// Engine holds the stateless consensus rules of one network.
type Engine struct {
	g     *genesis.Genesis
	sched Schedule
	keys  *crypto.KeyCache
	seals SealAuth
}

// SealAuth signs and checks the signature part of a block's seal. The
// protocol's is RSA-PSS by the sealer's account key (RSASeals); the
// deterministic simulator substitutes a MAC so that it can seal hundreds
// of thousands of blocks, since no rule it tests depends on the scheme.
type SealAuth interface {
	Sign(b *types.Block, key *crypto.PrivateKey) error
	Verify(b *types.Block) error
}

// RSASeals is the protocol's seal signature.
type RSASeals struct{ Keys *crypto.KeyCache }

// Sign implements SealAuth.
func (RSASeals) Sign(b *types.Block, key *crypto.PrivateKey) error { return b.Seal(key) }

// Verify implements SealAuth.
func (r RSASeals) Verify(b *types.Block) error { return b.VerifySeal(r.Keys) }

// NewEngine returns the engine for g. keys caches parsed sealer keys (there
// are only a few); nil gets a private cache.
func NewEngine(g *genesis.Genesis, keys *crypto.KeyCache) *Engine {
	if keys == nil {
		keys = crypto.NewKeyCache(4 * (len(g.Miners) + 1))
	}
	return &Engine{g: g, sched: NewSchedule(g), keys: keys, seals: RSASeals{Keys: keys}}
}

// WithSealAuth returns a copy of the engine that signs and checks seals
// with a; only the simulator needs this.
func (e *Engine) WithSealAuth(a SealAuth) *Engine {
	cp := *e
	cp.seals = a
	return &cp
}

// Schedule returns the slot schedule.
func (e *Engine) Schedule() Schedule { return e.sched }

// Genesis returns the genesis the engine enforces.
func (e *Engine) Genesis() *genesis.Genesis { return e.g }

// Author is the address that sealed h.
func (e *Engine) Author(h *types.Header) crypto.Address { return h.Sealer }

// VerifyHeader checks every rule of b that needs no state, given its parent
// header (which the caller looked up by b.Header.Parent, so the link itself
// is not re-checked). Checks run cheapest first and the RSA seal last.
//
// ErrFuture (slot not yet started, but at most MaxFutureSlots ahead) is
// returned only when every other check, the seal included, passed: the
// block is authentic and merely early, so the caller may hold it and retry
// at its slot without an attacker being able to fill that hold with forgeries.
func (e *Engine) VerifyHeader(parent *types.Header, b *types.Block, nowMs uint64) error {
	h := &b.Header
	bm := &e.g.File.BlockMining
	if h.ChainID != e.g.ChainID {
		return fmt.Errorf("%w: chain id %s, want %s", ErrWrongChain, h.ChainID, e.g.ChainID)
	}
	if h.Number < 2 || h.Number != parent.Number+1 {
		return fmt.Errorf("%w: number %d on parent %d", ErrBadNumber, h.Number, parent.Number)
	}
	if h.Slot <= parent.Slot {
		return fmt.Errorf("%w: slot %d on parent slot %d", ErrBadSlot, h.Slot, parent.Slot)
	}
	if !e.sched.inSlot(h.Time, h.Slot) {
		return fmt.Errorf("%w: time %d, slot %d spans [%d, %d)", ErrBadTime, h.Time, h.Slot,
			e.sched.SlotStart(h.Slot), e.sched.slotEnd(h.Slot))
	}
	nowSlot := e.sched.SlotAt(nowMs)
	if h.Slot > nowSlot+MaxFutureSlots {
		return fmt.Errorf("%w: slot %d, local slot %d", ErrFarFuture, h.Slot, nowSlot)
	}
	if !e.g.IsMiner(h.Sealer) {
		return fmt.Errorf("%w: %s", ErrNotMiner, h.Sealer)
	}
	if leader := e.sched.Leader(h.Slot); h.Sealer != leader {
		return fmt.Errorf("%w: sealer %s, leader of slot %d is %s", ErrWrongLeader, h.Sealer, h.Slot, leader)
	}
	if h.Version != types.HeaderVersion {
		return fmt.Errorf("%w: version %d", ErrBadParams, h.Version)
	}
	if h.Reward != bm.Reward || h.Difficulty != bm.Difficulty {
		return fmt.Errorf("%w: reward %d difficulty %d, want %d and %d", ErrBadParams,
			h.Reward, h.Difficulty, bm.Reward, bm.Difficulty)
	}
	if len(h.Data) > types.MaxBlockData {
		return fmt.Errorf("%w: data of %d bytes", ErrBadParams, len(h.Data))
	}
	if uint64(len(b.Txs)) > bm.MaxBound {
		return fmt.Errorf("%w: %d > %d", ErrTooManyTxs, len(b.Txs), bm.MaxBound)
	}
	// A block no peer could fetch must not be built on (DESIGN section 5).
	if n := b.EncodedLen(); uint64(n) > e.g.MaxBlockBytes {
		return fmt.Errorf("%w: %d bytes > %d", ErrBlockTooLarge, n, e.g.MaxBlockBytes)
	}
	if root := types.TxRoot(b.TxIDs()); root != h.TxRoot {
		return fmt.Errorf("%w: header %s, computed %s", ErrBadTxRoot, h.TxRoot, root)
	}
	if err := e.VerifySeal(b); err != nil {
		return err
	}
	if h.Slot > nowSlot {
		return fmt.Errorf("%w: slot %d, local slot %d", ErrFuture, h.Slot, nowSlot)
	}
	return nil
}

// VerifyAuthor checks that b belongs to this chain and was sealed by the
// leader of its slot, and nothing else: no parent is needed, so a node can
// trust a block as evidence of equivocation before refusing it for an
// unknown parent or a branch that leaves its final chain.
func (e *Engine) VerifyAuthor(b *types.Block) error {
	h := &b.Header
	if h.ChainID != e.g.ChainID {
		return fmt.Errorf("%w: chain id %s, want %s", ErrWrongChain, h.ChainID, e.g.ChainID)
	}
	if leader := e.sched.Leader(h.Slot); h.Sealer != leader {
		return fmt.Errorf("%w: sealer %s, leader of slot %d is %s", ErrWrongLeader, h.Sealer, h.Slot, leader)
	}
	return e.VerifySeal(b)
}

// VerifySeal checks only the proof of work, that the sealer key hashes to
// the sealer and the signature. It is the authenticity part of VerifyHeader,
// useful on its own to vouch for a block before trusting its timestamp.
func (e *Engine) VerifySeal(b *types.Block) error {
	if err := e.seals.Verify(b); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSeal, err)
	}
	return nil
}

// Prepare returns the header template of a new block on parent for slot,
// with the time clamped into the slot's window. TxRoot and StateRoot are
// left for the chain's block builder.
func (e *Engine) Prepare(parent *types.Header, parentID types.Hash, slot, nowMs uint64, sealer crypto.Address) types.Header {
	bm := &e.g.File.BlockMining
	return types.Header{
		Version:    types.HeaderVersion,
		ChainID:    e.g.ChainID,
		Number:     parent.Number + 1,
		Parent:     parentID,
		Slot:       slot,
		Time:       e.clampTime(slot, nowMs),
		Sealer:     sealer,
		Reward:     bm.Reward,
		Difficulty: bm.Difficulty,
		Data:       bm.PlaceholderData.Fill(),
	}
}

// clampTime keeps a block time inside its slot's window.
func (e *Engine) clampTime(slot, nowMs uint64) uint64 {
	start, end := e.sched.SlotStart(slot), e.sched.slotEnd(slot)
	t := max(nowMs, start)
	if end > start && t >= end {
		t = end - 1
	}
	return t
}

// Seal mines the proof of work of b's header and signs the block with key,
// which must be the header's sealer. Mining stops with ctx's error when ctx
// ends (checked every 4096 hashes).
func (e *Engine) Seal(ctx context.Context, b *types.Block, key *crypto.PrivateKey) error {
	if key.Address() != b.Header.Sealer {
		return fmt.Errorf("%w: key %s, sealer %s", ErrBadSeal, key.Address(), b.Header.Sealer)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	if !b.Header.Mine(0, func() bool { return ctx.Err() != nil }) {
		return fmt.Errorf("seal: %w", ctx.Err())
	}
	if err := e.seals.Sign(b, key); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSeal, err)
	}
	return nil
}
