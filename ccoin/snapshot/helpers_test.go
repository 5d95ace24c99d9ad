package snapshot

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/consensus/votetest"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

// keys returns 5 RSA keys generated once per test binary (slow): three
// miners, a user and an outsider.
func keys(t testing.TB) []*crypto.PrivateKey { return cryptotest.Keys(t, 5) }

// synthetic returns the i-th filler address.
func synthetic(i int) crypto.Address {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return crypto.AddressOf(b[:])
}

// testGenesis has three miners (quorum 2), the user funded and extra
// filler accounts. network makes genesis files of different chains.
func testGenesis(t testing.TB, network uint64, extra int) *genesis.Genesis {
	ks := keys(t)
	f := genesis.File{NetworkID: network, Timestamp: 1_700_000_000}
	f.BlockMining.Interval = 1
	f.BlockMining.MaxBound = 1000
	f.BlockMining.Reward = 100
	f.BlockMining.AllowEmpty = true
	f.Alloc = map[string]genesis.Alloc{ks[3].Address().String(): {Balance: 1_000_000}}
	for _, m := range ks[:3] {
		f.Miners = append(f.Miners, m.Address().String())
	}
	for i := range extra {
		f.Alloc[synthetic(i).String()] = genesis.Alloc{Balance: uint64(i + 1), Nonce: uint64(i % 7)}
	}
	g, err := genesis.New(f)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

type testChain struct {
	t     testing.TB
	g     *genesis.Genesis
	db    *leveldb.DB
	c     *chain.Chain
	ffg   *consensus.Finality
	eng   *consensus.Engine
	slot  uint64
	nonce uint64
}

func memDB(t testing.TB) *leveldb.DB {
	db, err := leveldb.Open(storage.NewMemStorage(), &opt.Options{Strict: opt.DefaultStrict | opt.StrictReader})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openChain(t testing.TB, db *leveldb.DB, g *genesis.Genesis) *chain.Chain {
	c, _ := openChainFinality(t, db, g)
	return c
}

// openChainFinality opens a chain with finality by votes (kept in memory).
func openChainFinality(t testing.TB, db *leveldb.DB, g *genesis.Genesis) (*chain.Chain, *consensus.Finality) {
	eng := consensus.NewEngine(g, nil)
	far := time.UnixMilli(int64(g.TimeMs) + 1<<40)
	var c *chain.Chain
	ffg, err := consensus.NewFinality(consensus.FinalityConfig{Genesis: g, Auth: consensus.RSAVotes{}, Headers: lateHeaders{&c}})
	if err != nil {
		t.Fatal(err)
	}
	c, err = chain.Open(db, chain.Config{Genesis: g, Verifier: eng, Now: func() time.Time { return far }, Finality: ffg})
	if err != nil {
		t.Fatal(err)
	}
	return c, ffg
}

type lateHeaders struct{ c **chain.Chain }

func (l lateHeaders) Header(id types.Hash) (*types.Header, error) { return (*l.c).Header(id) }

func newTestChain(t testing.TB, network uint64, extra int) *testChain {
	g := testGenesis(t, network, extra)
	db := memDB(t)
	if _, err := chain.Init(db, g, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	c, ffg := openChainFinality(t, db, g)
	return &testChain{t: t, g: g, db: db, c: c, ffg: ffg, eng: consensus.NewEngine(g, nil)}
}

// seal builds, seals and imports one block by the leader of the next slot,
// with a transfer from the user to a fresh address when transfer is set.
func (tc *testChain) seal(transfer bool) *types.Block {
	tc.t.Helper()
	ks := keys(tc.t)
	tc.slot++
	leader := tc.eng.Schedule().Leader(tc.slot)
	var key *crypto.PrivateKey
	for _, k := range ks[:3] {
		if k.Address() == leader {
			key = k
		}
	}
	parent, parentID := tc.c.Head()
	h := tc.eng.Prepare(parent, parentID, tc.slot, tc.eng.Schedule().SlotStart(tc.slot), leader)
	var txs []*types.Transaction
	if transfer {
		tc.nonce++
		tx := &types.Transaction{ChainID: tc.g.ChainID, Nonce: tc.nonce, From: ks[3].Address(), To: synthetic(1_000_000 + int(tc.nonce)), Amount: 10, Time: 1}
		if err := tx.Sign(ks[3]); err != nil {
			tc.t.Fatal(err)
		}
		txs = append(txs, tx)
	}
	b, err := tc.c.BuildBlock(parentID, h, txs)
	if err != nil {
		tc.t.Fatal(err)
	}
	if err := tc.eng.Seal(context.Background(), b, key); err != nil {
		tc.t.Fatal(err)
	}
	if _, err := tc.c.ImportBlock(b, nil); err != nil {
		tc.t.Fatalf("import block %d: %v", b.Header.Number, err)
	}
	// The miners' votes finalize the parent, as soon as validators would.
	if tc.ffg != nil && parent.Number >= 2 {
		if err := votetest.Finalize(tc.ffg, tc.g, ks[:3], parentID, parent.Slot); err != nil {
			tc.t.Fatal(err)
		}
		if _, err := tc.c.Refresh(); err != nil {
			tc.t.Fatal(err)
		}
	}
	return b
}

func (tc *testChain) sealN(n int, transfer bool) {
	for range n {
		tc.seal(transfer)
	}
}
