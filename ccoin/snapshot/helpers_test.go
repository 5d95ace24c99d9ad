package snapshot

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb/storage"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/kv"
	kvleveldb "ccoin/ccoin/kv/leveldb"
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
	db    kv.Store
	c     *chain.Chain
	ffg   *consensus.Finality
	eng   *consensus.Engine
	slot  uint64
	nonce uint64
	just  types.Checkpoint // the highest checkpoint finalize justified
}

func memDB(t testing.TB) kv.Store {
	db, err := kvleveldb.OpenStorage(storage.NewMemStorage())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// lateHeaders lets the finality gadget read the chain it is opened before.
type lateHeaders struct{ c **chain.Chain }

func (l lateHeaders) Header(id types.Hash) (*types.Header, error) { return (*l.c).Header(id) }

// openChain opens db's chain with the vote-based finality gadget on db's
// vote store, as a node does.
func openChain(t testing.TB, db kv.Store, g *genesis.Genesis) (*chain.Chain, *consensus.Finality) {
	eng := consensus.NewEngine(g, nil)
	far := time.UnixMilli(int64(g.TimeMs) + 1<<40)
	var c *chain.Chain
	ffg, err := consensus.NewFinality(consensus.FinalityConfig{Genesis: g, Auth: consensus.RSAVotes{},
		Headers: lateHeaders{&c}, DB: chain.NewVoteStore(db)})
	if err != nil {
		t.Fatal(err)
	}
	c, err = chain.Open(db, chain.Config{Genesis: g, Verifier: eng, Finality: ffg, Now: func() time.Time { return far }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(); err != nil {
		t.Fatal(err)
	}
	return c, ffg
}

func newTestChain(t testing.TB, network uint64, extra int) *testChain {
	g := testGenesis(t, network, extra)
	db := memDB(t)
	if _, err := chain.Init(db, g, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	tc := &testChain{t: t, g: g, db: db, eng: consensus.NewEngine(g, nil), just: types.Checkpoint{ID: g.ChainID}}
	tc.c, tc.ffg = openChain(t, db, g)
	return tc
}

// signVote returns k's vote for the link src -> tgt on g's chain.
func signVote(t testing.TB, g *genesis.Genesis, k *crypto.PrivateKey, src, tgt types.Checkpoint) *types.Vote {
	v := &types.Vote{Version: types.VoteVersion, ChainID: g.ChainID, Source: src, Target: tgt, Voter: k.Address()}
	if err := v.Sign(k); err != nil {
		t.Fatal(err)
	}
	return v
}

// finalize has the three miners vote so that the head's parent becomes
// final: a link from the highest justified checkpoint to the parent's
// checkpoint (unless it is that one), then parent -> head, whose epochs
// are consecutive because seal fills every slot. It returns the gadget's
// certificate, which is then of the chain's final block.
func (tc *testChain) finalize() *types.Certificate {
	tc.t.Helper()
	head, headID := tc.c.Head()
	parent, err := tc.c.Header(head.Parent)
	if err != nil {
		tc.t.Fatal(err)
	}
	pcp := types.Checkpoint{Epoch: parent.Slot, ID: head.Parent}
	hcp := types.Checkpoint{Epoch: head.Slot, ID: headID}
	if parent.Slot+1 != head.Slot {
		tc.t.Fatalf("slots %d and %d are not consecutive", parent.Slot, head.Slot)
	}
	var links [][2]types.Checkpoint
	if tc.just != pcp {
		links = append(links, [2]types.Checkpoint{tc.just, pcp})
	}
	links = append(links, [2]types.Checkpoint{pcp, hcp})
	for _, l := range links {
		for _, k := range keys(tc.t)[:3] {
			if _, err := tc.ffg.AddVote(signVote(tc.t, tc.g, k, l[0], l[1]), head.Slot+1); err != nil {
				tc.t.Fatalf("vote %v -> %v: %v", l[0], l[1], err)
			}
		}
	}
	tc.just = hcp
	if _, err := tc.c.Refresh(); err != nil {
		tc.t.Fatal(err)
	}
	if _, id := tc.c.Finalized(); id != head.Parent {
		tc.t.Fatalf("finalized %s after the votes, want %s", id, head.Parent)
	}
	cert := tc.ffg.Certificate()
	if cert == nil || cert.Header.ID() != head.Parent {
		tc.t.Fatalf("certificate %+v is not of the final block", cert)
	}
	return cert
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
	return b
}

func (tc *testChain) sealN(n int, transfer bool) {
	for range n {
		tc.seal(transfer)
	}
}
