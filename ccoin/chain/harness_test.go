package chain

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/syndtr/goleveldb/leveldb/storage"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/kv"
	kvleveldb "ccoin/ccoin/kv/leveldb"
	"ccoin/ccoin/state"
	"ccoin/ccoin/types"
)

// failer is what the helpers below need from *testing.T, *testing.B and
// *rapid.T alike.
type failer interface {
	Helper()
	Fatalf(format string, args ...any)
}

// memChain opens a chain on an in-memory LevelDB: replays and property
// runs need no disk and no fsync.
func memChain(t failer, g *genesis.Genesis, pool TxSource) (kv.Store, *Chain) {
	t.Helper()
	db, err := kvleveldb.OpenStorage(storage.NewMemStorage())
	if err != nil {
		t.Fatalf("open memory db: %v", err)
	}
	if _, err := Init(db, g, []byte("{}")); err != nil {
		t.Fatalf("init: %v", err)
	}
	c, err := Open(db, Config{Genesis: g, Verifier: linkVerifier{}, Pool: pool, Finality: &testFinality{}})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return db, c
}

// makeBlock builds (dropping invalid txs), and seals a block on parent with
// an exact slot, so fork-choice cases can be crafted.
func makeBlock(t failer, c *Chain, parentID types.Hash, miner *crypto.PrivateKey, slot uint64, txs ...*types.Transaction) *types.Block {
	t.Helper()
	parent, err := c.Header(parentID)
	if err != nil {
		t.Fatalf("parent: %v", err)
	}
	h := types.Header{Version: 1, ChainID: c.Genesis().ChainID, Number: parent.Number + 1, Parent: parentID, Slot: slot,
		Time: slot * 1000, Sealer: miner.Address(), Reward: c.Genesis().File.BlockMining.Reward}
	b, err := c.BuildBlock(parentID, h, txs)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	if err := b.Seal(miner); err != nil {
		t.Fatalf("seal: %v", err)
	}
	return b
}

func signTx(t failer, g *genesis.Genesis, from *crypto.PrivateKey, to crypto.Address, nonce, amount uint64) *types.Transaction {
	t.Helper()
	tx := &types.Transaction{ChainID: g.ChainID, Nonce: nonce, From: from.Address(), To: to, Amount: amount, Time: 1}
	if err := tx.Sign(from); err != nil {
		t.Fatalf("sign: %v", err)
	}
	return tx
}

// checkHeadState verifies the invariants every committed head must meet:
// the flat table holds exactly the accounts of the head state tree, with
// equal values, and the total supply is the genesis allocation plus one
// reward per block after genesis, without any overflow.
func checkHeadState(c *Chain, db kv.Store) error {
	head, _ := c.Head()
	g := c.Genesis()
	tree := map[crypto.Address]types.Account{}
	var (
		after *crypto.Address
		sum   uint64
		carry uint64
	)
	for {
		addrs, accs, more, err := c.AccountsAt(head.StateRoot, after, 64)
		if err != nil {
			return fmt.Errorf("accounts at head: %w", err)
		}
		for i, a := range addrs {
			tree[a] = accs[i]
			var c1 uint64
			sum, c1 = bits.Add64(sum, accs[i].Balance, 0)
			carry += c1
			if accs[i] == (types.Account{}) {
				return fmt.Errorf("zero account %s stored in the tree", a)
			}
		}
		if !more {
			break
		}
		last := addrs[len(addrs)-1]
		after = &last
	}
	if carry != 0 {
		return fmt.Errorf("total supply overflows uint64")
	}
	want := g.TotalAlloc() + g.File.BlockMining.Reward*(head.Number-1)
	if sum != want {
		return fmt.Errorf("total supply %d at height %d, want %d", sum, head.Number, want)
	}
	for a, acc := range tree {
		flat, err := c.Account(a)
		if err != nil {
			return err
		}
		if flat != acc {
			return fmt.Errorf("account %s: flat %+v, tree %+v", a, flat, acc)
		}
		viaAt, err := c.AccountAt(head.StateRoot, a)
		if err != nil || viaAt != acc {
			return fmt.Errorf("account %s: AccountAt %+v (%v), iterate %+v", a, viaAt, err, acc)
		}
	}
	// No stale entries in the flat table either.
	it := state.NewAccountIterator(db)
	defer it.Release()
	n := 0
	for it.Next() {
		var a crypto.Address
		copy(a[:], it.Key()[1:])
		if _, ok := tree[a]; !ok {
			return fmt.Errorf("flat table holds %s, absent from the head state", a)
		}
		n++
	}
	if n != len(tree) {
		return fmt.Errorf("flat table has %d accounts, tree %d", n, len(tree))
	}
	return it.Error()
}

// checkCanonical verifies the canonical index: numbers 1..head map to a
// parent-linked chain ending at the head, nothing above the head, and
// every transaction of those blocks is indexed at its place.
func checkCanonical(c *Chain) error {
	head, headID := c.Head()
	id := headID
	for n := head.Number; n >= 1; n-- {
		cid, err := c.CanonicalID(n)
		if err != nil {
			return fmt.Errorf("canonical %d: %w", n, err)
		}
		if cid != id {
			return fmt.Errorf("canonical %d is %s, chain from head has %s", n, cid, id)
		}
		b, err := c.Block(id)
		if err != nil {
			return err
		}
		for i, tx := range b.Txs {
			loc, idx, err := c.TxLocation(tx.ID())
			if err != nil || loc != id || idx != i {
				return fmt.Errorf("tx %s indexed at %s/%d (%v), is in %s/%d", tx.ID(), loc, idx, err, id, i)
			}
		}
		id = b.Header.Parent
	}
	if _, err := c.CanonicalID(head.Number + 1); !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("canonical index above the head: %v", err)
	}
	return nil
}
