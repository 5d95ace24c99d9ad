package chain

import (
	"bytes"
	"errors"
	"fmt"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/rawdb"
	"ccoin/ccoin/state"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

// A chain started from a snapshot has no blocks between genesis and the
// snapshot block: it holds the genesis block, the snapshot block's header
// (not its transactions) and that header's seal (rawdb.WriteBase), so the
// node can still prove the base's finality. Readers of the missing blocks
// get ErrNotFound; the base is finalized, so no reorg or undo ever reaches
// below it.

// ErrNotEmpty: a snapshot can only seed a chain that holds nothing past genesis.
var ErrNotEmpty = errors.New("chain already holds blocks past genesis")

// snapshotBatch is how many accounts go into one state tree update while a
// snapshot is imported; their nodes are written before the next batch.
const snapshotBatch = 8192

// AccountSource pushes accounts to fn in strictly increasing address order
// and stops at fn's first error.
type AccountSource func(fn func(a crypto.Address, acc types.Account) error) error

// ImportSnapshot seeds an empty (or genesis-only) database with the state
// of a finalized block: it rebuilds the state tree from accounts, checks its
// root against base's state_root and then writes the flat account table,
// the base header and seal, the canonical index entry and the head and
// finalized pointers in one synced transaction. The caller has verified sealed
// (base's header with its seal) and the base's finality; this function only
// checks that sealed encodes base and that the state matches it.
//
// Tree nodes are written as they are built; if the import fails they stay
// as unreferenced nodes, harmless to a later Init or import.
func ImportSnapshot(db kv.Store, g *genesis.Genesis, rawGenesis []byte, sealed []byte, accounts AccountSource, progress func(n uint64)) (*types.Header, error) {
	sb, err := types.DecodeBlock(sealed)
	if err != nil || len(sb.Txs) != 0 {
		return nil, fmt.Errorf("%w: snapshot base: not a sealed header (%v)", ErrInvalidBlock, err)
	}
	base := &sb.Header
	id := sb.ID()
	if base.ChainID != g.ChainID || base.Number < 2 {
		return nil, fmt.Errorf("%w: snapshot base %d of chain %s, this genesis is %s", ErrInvalidBlock, base.Number, base.ChainID, g.ChainID)
	}
	if _, err := Init(db, g, rawGenesis); err != nil {
		return nil, err
	}
	headID, err := rawdb.ReadHeadID(db)
	if err != nil {
		return nil, fmt.Errorf("read head: %w", err)
	}
	if headID != g.ChainID {
		return nil, fmt.Errorf("%w: head is %x", ErrNotEmpty, headID)
	}

	tree := smt.New(state.NodeStore(db), smt.DefaultCacheNodes)
	type row struct {
		addr crypto.Address
		enc  []byte // the account's encoding, also the tree leaf
	}
	var (
		root  smt.Hash
		ups   = make([]smt.Update, 0, snapshotBatch)
		rows  []row // the flat table (non-empty accounts), written with the pointers at the end
		last  crypto.Address
		count uint64
	)
	flush := func() error {
		if len(ups) == 0 {
			return nil
		}
		b := db.NewBatch()
		r, err := tree.Update(root, ups, state.NodeWriter(b))
		if err != nil {
			return err
		}
		if err := db.Write(b, false); err != nil {
			return fmt.Errorf("write state nodes: %w", err)
		}
		root, ups = r, ups[:0]
		if progress != nil {
			progress(count)
		}
		return nil
	}
	err = accounts(func(a crypto.Address, acc types.Account) error {
		if count > 0 && bytes.Compare(a[:], last[:]) <= 0 {
			return fmt.Errorf("%w: account %s out of order", ErrBadStateRoot, a)
		}
		last = a
		count++
		enc := acc.Encode(nil)
		ups = append(ups, smt.Update{Key: a, Value: enc})
		if acc != (types.Account{}) {
			rows = append(rows, row{a, enc})
		}
		if len(ups) == snapshotBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, err
	}
	if root != base.StateRoot {
		return nil, fmt.Errorf("%w: snapshot rebuilds %s, block %d has %s", ErrBadStateRoot, types.Hash(root), base.Number, base.StateRoot)
	}

	final, err := kv.NewBulk(db)
	if err != nil {
		return nil, err
	}
	defer final.Discard()
	// The flat table is replaced as a whole: genesis accounts the snapshot
	// lacks must not survive.
	it := state.NewAccountIterator(db)
	for it.Next() {
		final.Delete(bytes.Clone(it.Key()))
	}
	it.Release()
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("read account table: %w", err)
	}
	for _, r := range rows {
		state.WriteAccountRaw(final, r.addr, r.enc)
	}
	rawdb.WriteHeader(final, id, base)
	rawdb.WriteCanonicalID(final, base.Number, id)
	rawdb.WriteBase(final, sealed)
	rawdb.WriteHeadID(final, id)
	rawdb.WriteFinalizedID(final, id)
	if err := final.Commit(); err != nil {
		return nil, fmt.Errorf("write snapshot: %w", err)
	}
	return base, nil
}

// Base returns the id of the snapshot block this chain started from, if it
// did.
func (c *Chain) Base() (types.Hash, bool) { return c.baseID, c.hasBase }

// SealedHeader returns a block's header with its seal, encoded as the block
// without its transactions, for finality proofs. It works for every stored
// block and for the snapshot base, whose transactions the chain never had.
func (c *Chain) SealedHeader(id types.Hash) ([]byte, error) {
	if c.hasBase && id == c.baseID {
		v, err := rawdb.ReadBase(c.db)
		if err != nil {
			return nil, c.corrupt("read snapshot base", err)
		}
		return v, nil
	}
	b, err := c.Block(id)
	if err != nil {
		return nil, err
	}
	s := types.Block{Header: b.Header, SealerKey: b.SealerKey, Signature: b.Signature}
	return s.Encode(nil), nil
}

// loadBase reads the snapshot base pointer, if any.
func (c *Chain) loadBase() error {
	v, err := rawdb.ReadBase(c.db)
	if errors.Is(err, kv.ErrNotFound) {
		return nil
	}
	if err != nil {
		return c.corrupt("read snapshot base", err)
	}
	b, err := types.DecodeBlock(v)
	if err != nil {
		return c.corrupt("decode snapshot base", err)
	}
	c.baseID, c.hasBase = b.ID(), true
	return nil
}
