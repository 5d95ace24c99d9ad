package chain

import (
	"context"
	"errors"
	"testing"
	"time"

	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/kv/memorydb"
	"ccoin/ccoin/types"
)

// TestBlockBytesCap: a backlog larger than one block of max_block_bytes is
// sealed as several blocks, each under the cap and each importable by a
// node that checks every consensus rule; a block over the cap is refused
// with consensus.ErrBlockTooLarge and nothing of it is stored.
func TestBlockBytesCap(t *testing.T) {
	ks := keys(t, 4)
	miners, user := ks[:3], ks[3]
	f := genesis.File{NetworkID: 7, Timestamp: 1_700_000_000}
	f.BlockMining = genesis.BlockMining{Interval: 1, MaxBound: 1000, Reward: 100, Difficulty: 1, AllowEmpty: true,
		MaxBlockBytes: genesis.MinBlockBytes}
	f.GenesisBlock.Difficulty = 1
	for _, m := range miners {
		f.Miners = append(f.Miners, m.Address().String())
	}
	f.Alloc = map[string]genesis.Alloc{user.Address().String(): {Balance: 1_000_000}}
	g, err := genesis.New(f)
	if err != nil {
		t.Fatal(err)
	}
	eng := consensus.NewEngine(g, nil)
	sched := eng.Schedule()
	byAddr := map[crypto.Address]*crypto.PrivateKey{}
	for _, m := range miners {
		byAddr[m.Address()] = m
	}
	var backlog []*types.Transaction
	size := 0
	for n := uint64(1); size < 3*int(g.MaxBlockBytes); n++ {
		tx := signTx(t, g, user, crypto.Address{0xee}, n, 1)
		backlog = append(backlog, tx)
		size += tx.EncodedLen()
	}

	_, builder := memChain(t, g, nil)
	far := time.UnixMilli(int64(g.TimeMs) + 1<<40)
	checker := func() *Chain {
		db := memorydb.New()
		t.Cleanup(func() { db.Close() })
		if _, err := Init(db, g, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		c, err := Open(db, Config{Genesis: g, Verifier: eng, Now: func() time.Time { return far }, Finality: &testFinality{}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	full := checker()
	seal := func(slot uint64, txs []*types.Transaction, exact bool) *types.Block {
		head, headID := builder.Head()
		leader := sched.Leader(slot)
		hdr := eng.Prepare(head, headID, slot, sched.SlotStart(slot), leader)
		b, err := builder.BuildBlock(headID, hdr, txs)
		if err != nil {
			t.Fatal(err)
		}
		if exact { // every tx, past the cap, with the builder's state root
			b.Txs = txs
			b.Header.TxRoot = types.TxRoot(b.TxIDs())
		}
		if err := eng.Seal(context.Background(), b, byAddr[leader]); err != nil {
			t.Fatal(err)
		}
		return b
	}

	// Oversize first, while its parent is the head of both chains.
	big := seal(1, backlog, true)
	if big.EncodedLen() <= int(g.MaxBlockBytes) {
		t.Fatalf("test setup: oversize block of %d bytes", big.EncodedLen())
	}
	if _, err := full.ImportBlock(big, big.Encode(nil)); !errors.Is(err, consensus.ErrBlockTooLarge) {
		t.Fatalf("block of %d bytes (cap %d): got %v, want ErrBlockTooLarge", big.EncodedLen(), g.MaxBlockBytes, err)
	}
	if full.HasBlock(big.ID()) {
		t.Fatal("refused block stored")
	}

	blocks := 0
	for slot := uint64(1); len(backlog) > 0; slot++ {
		b := seal(slot, backlog, false)
		if n := b.EncodedLen(); n > int(g.MaxBlockBytes) || len(b.Txs) == 0 {
			t.Fatalf("block %d: %d bytes with %d txs, cap %d", b.Header.Number, n, len(b.Txs), g.MaxBlockBytes)
		}
		if _, err := builder.ImportOwn(b); err != nil {
			t.Fatal(err)
		}
		if _, err := full.ImportBlock(b, b.Encode(nil)); err != nil {
			t.Fatalf("block %d of %d bytes: %v", b.Header.Number, b.EncodedLen(), err)
		}
		backlog = backlog[len(b.Txs):]
		blocks++
	}
	if blocks < 3 {
		t.Fatalf("a backlog of three blocks' bytes fit in %d blocks", blocks)
	}
	if _, a := builder.Head(); a != func() types.Hash { _, b := full.Head(); return b }() {
		t.Fatal("checker and builder disagree on the head")
	}
}
