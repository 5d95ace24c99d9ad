package node

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/consensus/votetest"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

// signAll signs the transfers in parallel (RSA signing dominates).
func signAll(t testing.TB, chainID types.Hash, txs []*types.Transaction, keyOf map[crypto.Address]*crypto.PrivateKey) {
	t.Helper()
	var wg sync.WaitGroup
	var next sync.Mutex
	i := 0
	errs := make(chan error, 1)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				next.Lock()
				k := i
				i++
				next.Unlock()
				if k >= len(txs) {
					return
				}
				txs[k].ChainID = chainID
				if err := txs[k].Sign(keyOf[txs[k].From]); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

// buildHistory writes blocks 2..n+1 straight into a node's (stopped) data
// directory, one per historic slot with the leader of that slot sealing,
// and txsFor(number) in each; it is how a long chain is made in seconds
// instead of hours of slots. Every historyFinalEvery slots, and at the end
// for the head's parent, the miners' votes finalize a block, stored with
// its certificate as a node stores them.
func buildHistory(t testing.TB, dir string, g *genesis.Genesis, miners []*crypto.PrivateKey, n int,
	txsFor func(number uint64) []*types.Transaction) {
	t.Helper()
	db, err := chain.OpenDB(ChainDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys := crypto.NewKeyCache(64)
	eng := consensus.NewEngine(g, keys)
	var c *chain.Chain
	ffg, err := consensus.NewFinality(consensus.FinalityConfig{Genesis: g, Auth: consensus.RSAVotes{Keys: keys},
		Headers: historyHeaders{&c}, DB: chain.NewVoteStore(db)})
	if err != nil {
		t.Fatal(err)
	}
	c, err = chain.Open(db, chain.Config{Genesis: g, Verifier: eng, Keys: keys, Logger: hclog.NewNullLogger(), Finality: ffg})
	if err != nil {
		t.Fatal(err)
	}
	finalize := func(id types.Hash) {
		h, err := c.Header(id)
		if err != nil {
			t.Fatal(err)
		}
		if err := votetest.Finalize(ffg, g, miners, id, h.Slot); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Refresh(); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		if head, _ := c.Head(); head.Number > 2 && !t.Failed() {
			finalize(head.Parent)
		}
	}()
	byAddr := map[crypto.Address]*crypto.PrivateKey{}
	for _, m := range miners {
		byAddr[m.Address()] = m
	}
	sched := eng.Schedule()
	ctx := context.Background()
	for slot := uint64(1); slot <= uint64(n); slot++ {
		head, headID := c.Head()
		leader := sched.Leader(slot)
		hdr := eng.Prepare(head, headID, slot, sched.SlotStart(slot), leader)
		txs := txsFor(head.Number + 1)
		b, err := c.BuildBlock(headID, hdr, txs)
		if err != nil {
			t.Fatalf("build block %d: %v", hdr.Number, err)
		}
		if len(b.Txs) != len(txs) {
			t.Fatalf("block %d: builder kept %d of %d transfers", hdr.Number, len(b.Txs), len(txs))
		}
		if err := eng.Seal(ctx, b, byAddr[leader]); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ImportOwn(b); err != nil {
			t.Fatalf("import block %d: %v", hdr.Number, err)
		}
		if slot%historyFinalEvery == 0 {
			finalize(headID)
		}
	}
}

// historyFinalEvery bounds the block tree fork choice walks while a history
// is built (it walks everything above the final block).
const historyFinalEvery = 16

// historyHeaders reads headers from a chain opened after the finality that
// reads them.
type historyHeaders struct{ c **chain.Chain }

func (h historyHeaders) Header(id types.Hash) (*types.Header, error) { return (*h.c).Header(id) }

// A node that joins late downloads a 10,000-block history with a few
// thousand transfers from its peer and ends with identical blocks and state.
//
// The history costs one RSA signature per block and per transfer (about
// 1.5 ms each on an idle core, several times that under -race), so under
// the race detector or -short it shrinks; CCOIN_TEST_SYNC_BLOCKS sets it.
func TestClusterLateJoinerSync(t *testing.T) {
	const (
		txEvery  = 50 // a block with transfers every txEvery blocks
		txPerBlk = 15
	)
	nBlocks := 10_000
	switch {
	case os.Getenv("CCOIN_TEST_SYNC_BLOCKS") != "":
		n, err := strconv.Atoi(os.Getenv("CCOIN_TEST_SYNC_BLOCKS"))
		if err != nil || n < txEvery {
			t.Fatalf("CCOIN_TEST_SYNC_BLOCKS=%q: want a number >= %d", os.Getenv("CCOIN_TEST_SYNC_BLOCKS"), txEvery)
		}
		nBlocks = n
	case testing.Short():
		nBlocks = 1_000
	case raceEnabled:
		nBlocks = 2_500
	}
	nTransfer := nBlocks / txEvery * txPerBlk
	spec := defaultSpec(t)
	spec.IntervalS = 0.3
	// Genesis far enough in the past that every historic slot has started.
	spec.Timestamp = uint64(time.Now().Unix()) - uint64(float64(nBlocks)*spec.IntervalS) - 120
	t.Logf("history of %d blocks with %d transfers (race detector: %v)", nBlocks, nTransfer, raceEnabled)
	c := newCluster(t, spec)
	a := c.add("A", TypeBasic, outsiderKey(t))
	b := c.add("B", TypeBasic, userKeys(t)[0])

	users := userKeys(t)
	keyOf := map[crypto.Address]*crypto.PrivateKey{}
	for _, u := range users {
		keyOf[u.Address()] = u
	}
	txs := make([]*types.Transaction, nTransfer)
	for k := range txs {
		from, to := users[k%len(users)], users[(k+1)%len(users)]
		txs[k] = &types.Transaction{Nonce: uint64(k/len(users) + 1), From: from.Address(), To: to.Address(),
			Amount: uint64(1 + k%7), Time: uint64(time.Now().UnixMilli())}
	}
	t0 := time.Now()
	signAll(t, c.g.ChainID, txs, keyOf)
	signDur := time.Since(t0)

	t0 = time.Now()
	buildHistory(t, a.dir, c.g, validatorKeys(t), nBlocks, func(number uint64) []*types.Transaction {
		if number%txEvery != 0 {
			return nil
		}
		j := int(number/txEvery - 1)
		return txs[j*txPerBlk : (j+1)*txPerBlk]
	})
	t.Logf("history: signed %d transfers in %v, built %d blocks in %v", nTransfer, signDur.Round(time.Millisecond),
		nBlocks, time.Since(t0).Round(time.Millisecond))

	a.start()
	target := a.height()
	if target != uint64(nBlocks)+1 {
		t.Fatalf("A's height %d, want %d", target, nBlocks+1)
	}
	start := time.Now()
	b.start()
	waitFor(t, 150*time.Second, "B to reach A's height", func() bool { return b.height() >= target })
	dur := time.Since(start)
	t.Logf("late joiner caught up %d blocks (%d transfers) in %v: %.0f blocks/s, %.0f tx/s (from start, incl. %v boot wait)",
		nBlocks, nTransfer, dur.Round(time.Millisecond), float64(nBlocks)/dur.Seconds(), float64(nTransfer)/dur.Seconds(), 700*time.Millisecond)
	waitFor(t, 10*time.Second, "B ready", func() bool { return b.N().SyncState() == StateReady })

	if d := diverge([]*tnode{a, b}); d != "" {
		t.Fatalf("chains differ: %s", d)
	}
	ah, aid := a.head()
	bh, bid := b.head()
	if aid != bid || ah.StateRoot != bh.StateRoot {
		t.Fatalf("heads differ: A %d %s root %s, B %d %s root %s", ah.Number, short(aid), short(ah.StateRoot), bh.Number, short(bid), short(bh.StateRoot))
	}
	// B's own state tree (not just the header it copied) holds the same accounts.
	aAddrs, aAccs, _, err := a.N().Chain().AccountsAt(ah.StateRoot, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	bAddrs, bAccs, _, err := b.N().Chain().AccountsAt(bh.StateRoot, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(aAddrs) != len(bAddrs) {
		t.Fatalf("A has %d accounts, B %d", len(aAddrs), len(bAddrs))
	}
	for i := range aAddrs {
		if aAddrs[i] != bAddrs[i] || aAccs[i] != bAccs[i] {
			t.Errorf("account %d: A %s %+v, B %s %+v", i, aAddrs[i], aAccs[i], bAddrs[i], bAccs[i])
		}
	}
	for _, u := range users {
		acc, err := b.N().Chain().Account(u.Address())
		if err != nil || acc.Nonce != uint64(nTransfer/len(users)) {
			t.Errorf("user %s on B: %+v, %v; want nonce %d", u.Address(), acc, err, nTransfer/len(users))
		}
		if _, _, err := b.N().Chain().TxLocation(txs[len(txs)-1].ID()); err != nil {
			t.Errorf("last transfer not indexed on B: %v", err)
		}
	}
	checkSupply(t, b.N())
}

// A peer whose chain leaves our finalized block is neither synced from nor
// banned: under overload honest nodes can briefly finalize different blocks
// (rolling finality assumes blocks arrive within a slot), and banning an
// honest validator for that cut a devnet node off it for an hour.
func TestSyncSkipsPeerOffOurFinalizedChain(t *testing.T) {
	spec := defaultSpec(t)
	const nBlocks = 16
	spec.Timestamp = uint64(time.Now().Unix()) - uint64(float64(nBlocks)*spec.IntervalS) - 60
	c := newCluster(t, spec)
	users := userKeys(t)
	// A longer chain that differs from J's from block 2 on.
	other := filepath.Join(c.base, "other")
	initDataDir(t, other, c.g, c.raw)
	buildHistory(t, other, c.g, validatorKeys(t), nBlocks, func(number uint64) []*types.Transaction {
		if number != 2 {
			return nil
		}
		return []*types.Transaction{c.transfer(users[0], fillerAddr(1), 1, 3)}
	})
	db, err := chain.OpenDB(ChainDir(other))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	oc, err := chain.Open(db, chain.Config{Genesis: c.g, Verifier: consensus.NewEngine(c.g, nil), Finality: chain.ReadOnly{}})
	if err != nil {
		t.Fatal(err)
	}
	pkey := users[1]
	pnet := startProxy(t, c, "P", pkey, &proxy{c: oc})

	j := c.loneNode("J", TypeBasic, outsiderKey(t), pnet.Addr())
	buildHistory(t, j.dir, c.g, validatorKeys(t), nBlocks/2, func(uint64) []*types.Transaction { return nil })
	j.start()
	final := j.finalized()
	if final < 3 {
		t.Fatalf("J finalized only %d: too small a test", final)
	}
	head, _ := j.head()
	connected := func() bool {
		for _, p := range j.N().Network().Peers() {
			if p.NodeAddress == pkey.Address() {
				return true
			}
		}
		return false
	}
	waitFor(t, 10*time.Second, "J connected to the other chain's peer", connected)
	if c.out == c.sink {
		waitFor(t, 10*time.Second, "J tried to sync from it", func() bool {
			return strings.Contains(c.sink.String(), "does not contain our finalized block")
		})
	} else {
		time.Sleep(3 * time.Second)
	}
	for range 20 {
		if !connected() {
			t.Fatal("J dropped the peer whose chain leaves its finalized block")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if h, _ := j.head(); j.finalized() != final || h.Number < head.Number {
		t.Fatalf("J moved from head %d finalized %d to %d, %d", head.Number, final, h.Number, j.finalized())
	}
	if strings.Contains(c.sink.String(), "peer banned") {
		t.Fatalf("a ban was logged:\n%s", c.sink.String())
	}
}
