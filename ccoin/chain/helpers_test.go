package chain

import (
	"errors"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/types"
)

// keys returns n RSA keys, generated once per test binary (slow).
func keys(t testing.TB, n int) []*crypto.PrivateKey { return cryptotest.Keys(t, n) }

// linkVerifier checks only what the chain itself cannot: nothing. The
// consensus engine's rules are tested in package consensus and at the node.
type linkVerifier struct{}

func (linkVerifier) VerifyHeader(parent *types.Header, b *types.Block, nowMs uint64) error {
	if b.Header.Number != parent.Number+1 {
		return errors.New("bad number")
	}
	return b.VerifySeal(nil)
}

func (linkVerifier) VerifyAuthor(b *types.Block) error { return b.VerifySeal(nil) }

type env struct {
	t      testing.TB
	g      *genesis.Genesis
	db     kv.Store
	c      *Chain
	miners []*crypto.PrivateKey
	users  []*crypto.PrivateKey
	slot   uint64
	dir    string
	fin    *testFinality // survives reopening, like a node's stored votes
}

func testGenesis(t testing.TB, miners, users []*crypto.PrivateKey, balance uint64) *genesis.Genesis {
	f := genesis.File{NetworkID: 7, Timestamp: 1_700_000_000}
	f.BlockMining.Interval = 1
	f.BlockMining.MaxBound = 1000
	f.BlockMining.Reward = 100
	f.BlockMining.AllowEmpty = true
	f.Alloc = map[string]genesis.Alloc{}
	for _, m := range miners {
		f.Miners = append(f.Miners, m.Address().String())
	}
	for _, u := range users {
		f.Alloc[u.Address().String()] = genesis.Alloc{Balance: balance}
	}
	g, err := genesis.New(f)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func newEnv(t testing.TB, nMiners, nUsers int) *env {
	ks := keys(t, nMiners+nUsers)
	e := &env{t: t, miners: ks[:nMiners], users: ks[nMiners:], dir: t.TempDir()}
	e.g = testGenesis(t, e.miners, e.users, 1_000_000)
	e.open()
	return e
}

func (e *env) open() {
	db, err := OpenDB(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := Init(db, e.g, []byte("{}")); err != nil {
		e.t.Fatal(err)
	}
	if e.fin == nil {
		e.fin = &testFinality{}
	}
	c, err := Open(db, Config{Genesis: e.g, Verifier: linkVerifier{}, Finality: e.fin})
	if err != nil {
		e.t.Fatal(err)
	}
	e.db, e.c = db, c
	if tb, ok := e.t.(interface{ Cleanup(func()) }); ok {
		tb.Cleanup(func() { db.Close() })
	}
}

func (e *env) tx(from *crypto.PrivateKey, to crypto.Address, nonce, amount uint64) *types.Transaction {
	tx := &types.Transaction{ChainID: e.g.ChainID, Nonce: nonce, From: from.Address(), To: to, Amount: amount, Time: 1}
	if err := tx.Sign(from); err != nil {
		e.t.Fatal(err)
	}
	return tx
}

// block builds a sealed block on parent by miner with exactly txs (no
// filtering), so invalid blocks can be made on purpose.
func (e *env) block(parentID types.Hash, miner *crypto.PrivateKey, txs ...*types.Transaction) *types.Block {
	parent, err := e.c.Header(parentID)
	if err != nil {
		e.t.Fatal(err)
	}
	e.slot++
	h := types.Header{Version: 1, ChainID: e.g.ChainID, Number: parent.Number + 1, Parent: parentID, Slot: parent.Slot + e.slot,
		Sealer: miner.Address(), Reward: e.g.File.BlockMining.Reward}
	built, err := e.c.BuildBlock(parentID, h, txs)
	if err != nil {
		e.t.Fatal(err)
	}
	// Keep every tx, even invalid ones, with the builder's roots.
	b := &types.Block{Header: built.Header, Txs: txs}
	b.Header.TxRoot = types.TxRoot(b.TxIDs())
	if err := b.Seal(miner); err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) head() types.Hash {
	_, id := e.c.Head()
	return id
}

func (e *env) mustImport(b *types.Block) *Result {
	r, err := e.c.ImportBlock(b, nil)
	if err != nil {
		e.t.Fatalf("import block %d: %v", b.Header.Number, err)
	}
	return r
}

func (e *env) balance(a crypto.Address) uint64 {
	acc, err := e.c.Account(a)
	if err != nil {
		e.t.Fatal(err)
	}
	return acc.Balance
}
