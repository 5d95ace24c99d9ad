package chain

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

type seal struct {
	miner int
	slot  uint64
}

// buildBranch builds and imports blocks sealed as given on parent and
// returns them.
func buildBranch(t *testing.T, c *Chain, miners []*crypto.PrivateKey, parent types.Hash, seals ...seal) []*types.Block {
	t.Helper()
	var out []*types.Block
	for _, s := range seals {
		b := makeBlock(t, c, parent, miners[s.miner], s.slot)
		if _, err := c.ImportBlock(b, nil); err != nil {
			t.Fatalf("import: %v", err)
		}
		out = append(out, b)
		parent = b.ID()
	}
	return out
}

// TestForkChoice imports two competing branches in every order and checks
// that the head is the same: greater height, then lower slot, then lower
// id. Each branch has a single sealer so nothing is finalized.
func TestForkChoice(t *testing.T) {
	e := newEnv(t, 3, 1)
	rows := []struct {
		name string
		a, b []seal
		want func(a, b *types.Block) *types.Block
	}{
		{"greater height beats lower slot", []seal{{0, 10}, {0, 20}}, []seal{{1, 1}},
			func(a, b *types.Block) *types.Block { return a }},
		{"greater height beats much lower slot", []seal{{0, 1}, {0, 2}, {0, 90}}, []seal{{1, 1}, {1, 2}},
			func(a, b *types.Block) *types.Block { return a }},
		{"equal height: lower slot", []seal{{0, 1}, {0, 5}}, []seal{{1, 2}, {1, 3}},
			func(a, b *types.Block) *types.Block { return b }},
		{"equal height: only the tip slot counts", []seal{{0, 1}, {0, 9}}, []seal{{1, 5}, {1, 8}},
			func(a, b *types.Block) *types.Block { return b }},
		{"equal height and slot: lower id", []seal{{0, 3}}, []seal{{1, 3}},
			func(a, b *types.Block) *types.Block {
				ai, bi := a.ID(), b.ID()
				if string(ai[:]) < string(bi[:]) {
					return a
				}
				return b
			}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			bdb, builder := memChain(t, e.g, nil)
			defer bdb.Close()
			a := buildBranch(t, builder, e.miners, e.g.ChainID, row.a...)
			b := buildBranch(t, builder, e.miners, e.g.ChainID, row.b...)
			ta, tb := a[len(a)-1], b[len(b)-1]
			want := row.want(ta, tb)
			other := ta
			if want == ta {
				other = tb
			}
			if !Better(&want.Header, want.ID(), &other.Header, other.ID()) || Better(&other.Header, other.ID(), &want.Header, want.ID()) {
				t.Fatal("Better disagrees with the expected winner")
			}
			orders := map[string][]*types.Block{
				"a then b":   slices.Concat(a, b),
				"b then a":   slices.Concat(b, a),
				"interleave": interleave(a, b),
			}
			for name, order := range orders {
				db, c := memChain(t, e.g, nil)
				for _, blk := range order {
					if _, err := c.ImportBlock(blk, blk.Encode(nil)); err != nil {
						t.Fatalf("%s: import: %v", name, err)
					}
				}
				if _, head := c.Head(); head != want.ID() {
					t.Fatalf("%s: head %s, want %s", name, head, want.ID())
				}
				if fin, _ := c.Finalized(); fin.Number != 1 {
					t.Fatalf("%s: single-sealer branches finalized block %d", name, fin.Number)
				}
				if err := checkHeadState(c, db); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if err := checkCanonical(c); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				db.Close()
			}
		})
	}
}

func interleave(a, b []*types.Block) []*types.Block {
	var out []*types.Block
	for i := 0; i < len(a) || i < len(b); i++ {
		if i < len(a) {
			out = append(out, a[i])
		}
		if i < len(b) {
			out = append(out, b[i])
		}
	}
	return out
}

// TestReorg switches between two branches with transactions, checks the
// abandoned transactions, the indexes and that the state equals a fresh
// replay of the winning branch; then finalizes the winner and checks that
// the losing branch can no longer be extended.
func TestReorg(t *testing.T) {
	e := newEnv(t, 3, 3)
	m0, m1, m2 := e.miners[0], e.miners[1], e.miners[2]
	u0, u1, u2 := e.users[0], e.users[1], e.users[2]
	var events []Event
	e.c.cfg.OnEvent = func(ev Event) { events = append(events, ev) }

	tx1 := e.tx(u0, u1.Address(), 1, 100)
	tx2 := e.tx(u2, u0.Address(), 1, 200)
	tx3 := e.tx(u0, u2.Address(), 2, 300)
	tx4 := e.tx(u1, u2.Address(), 1, 400)
	tx5 := e.tx(u1, u0.Address(), 2, 500) // only valid after tx4

	a1 := makeBlock(t, e.c, e.g.ChainID, m0, 10, tx1, tx2)
	e.mustImport(a1)
	a2 := makeBlock(t, e.c, a1.ID(), m0, 11, tx3)
	e.mustImport(a2)
	if len(a1.Txs) != 2 || len(a2.Txs) != 1 {
		t.Fatal("branch A lost transactions")
	}

	b1 := makeBlock(t, e.c, e.g.ChainID, m1, 20, tx1, tx4)
	if r := e.mustImport(b1); r.Head {
		t.Fatal("shorter branch became head")
	}
	b2 := makeBlock(t, e.c, b1.ID(), m1, 21, tx5)
	if r := e.mustImport(b2); r.Head {
		t.Fatal("branch with a later slot became head")
	}
	b3 := makeBlock(t, e.c, b2.ID(), m1, 22)
	if len(b1.Txs) != 2 || len(b2.Txs) != 1 {
		t.Fatal("branch B lost transactions")
	}
	events = nil
	r := e.mustImport(b3)
	if !r.Head || r.Reorg == nil {
		t.Fatalf("longer branch did not reorganise: %+v", r)
	}
	if r.Reorg.OldHead != a2.ID() || r.Reorg.NewHead != b3.ID() || r.Reorg.Depth != 2 {
		t.Fatalf("reorg %+v", r.Reorg)
	}
	if got := txIDs(r.Reorg.Abandoned); !sameSet(got, []types.Hash{tx2.ID(), tx3.ID()}) {
		t.Fatalf("abandoned %v, want tx2 and tx3 (tx1 is in the new branch)", got)
	}
	if got := txIDs(r.Included); !sameSet(got, []types.Hash{tx1.ID(), tx4.ID(), tx5.ID()}) {
		t.Fatalf("included %v", got)
	}
	if len(events) != 2 || events[0].Kind != "reorg" || events[0].Depth != 2 || events[0].OldHead != a2.ID() || events[1].Kind != "head" {
		t.Fatalf("events %+v", events)
	}
	for _, tx := range []*types.Transaction{tx2, tx3} {
		if _, _, err := e.c.TxLocation(tx.ID()); !errors.Is(err, ErrNotFound) {
			t.Fatalf("abandoned tx still indexed: %v", err)
		}
	}
	if blk, _, err := e.c.TxLocation(tx1.ID()); err != nil || blk != b1.ID() {
		t.Fatalf("tx1 indexed at %s (%v), want b1", blk, err)
	}
	if err := checkHeadState(e.c, e.db); err != nil {
		t.Fatal(err)
	}
	if err := checkCanonical(e.c); err != nil {
		t.Fatal(err)
	}
	assertSameState(t, e, []*types.Block{b1, b2, b3})

	// Back to A at equal height by its lower slot, then to B again: undo
	// records serve both ways.
	a3 := makeBlock(t, e.c, a2.ID(), m0, 12)
	if r := e.mustImport(a3); r.Reorg == nil || r.Reorg.Depth != 3 || !sameSet(txIDs(r.Reorg.Abandoned), []types.Hash{tx4.ID(), tx5.ID()}) {
		t.Fatalf("second reorg: %+v", r.Reorg)
	}
	a4 := makeBlock(t, e.c, a3.ID(), m0, 13)
	if r := e.mustImport(a4); r.Reorg != nil || !r.Head {
		t.Fatalf("extension: %+v", r)
	}
	assertSameState(t, e, []*types.Block{a1, a2, a3, a4})
	b4 := makeBlock(t, e.c, b3.ID(), m1, 23)
	if r := e.mustImport(b4); r.Reorg != nil || r.Head {
		t.Fatalf("equal height, later slot: %+v", r)
	}
	// The finality gadget finalizes b4 (off the canonical chain, so
	// nothing moves yet); b5 on it reorganises and finalizes it.
	e.fin.finalize(b4.ID(), b4.Header.Slot)
	b5 := makeBlock(t, e.c, b4.ID(), m2, 24)
	r = e.mustImport(b5)
	if r.Reorg == nil || r.Finalized == nil || r.FinalizedID != b4.ID() {
		t.Fatalf("b5 on the final block b4 should reorganise and finalize b4: %+v", r)
	}
	assertSameState(t, e, []*types.Block{b1, b2, b3, b4, b5})

	// Nothing may leave b4 now: not A's tip, not a sibling of b4 or b5's
	// parent's sibling, even when longer.
	for _, parent := range []types.Hash{a4.ID(), b3.ID(), e.g.ChainID} {
		blk := makeBlock(t, e.c, parent, m2, 1)
		if _, err := e.c.ImportBlock(blk, nil); !errors.Is(err, ErrBelowFinalized) {
			t.Fatalf("block on %s: want ErrBelowFinalized, got %v", parent, err)
		}
		if _, err := e.c.ImportOwn(blk); !errors.Is(err, ErrBelowFinalized) {
			t.Fatalf("own block on %s: want ErrBelowFinalized, got %v", parent, err)
		}
	}
	if _, fin := e.c.Finalized(); fin != b4.ID() {
		t.Fatal("finalized block moved")
	}
	// A sibling of b5 (on the finalized block) is still allowed.
	sib := makeBlock(t, e.c, b4.ID(), m0, 2)
	if r := e.mustImport(sib); !r.Head || r.Reorg == nil {
		t.Fatalf("lower-slot sibling of the head: %+v", r)
	}
	assertSameState(t, e, []*types.Block{b1, b2, b3, b4, sib})
}

func txIDs(txs []*types.Transaction) []types.Hash {
	out := make([]types.Hash, len(txs))
	for i, tx := range txs {
		out[i] = tx.ID()
	}
	return out
}

func sameSet(a, b []types.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[types.Hash]int{}
	for _, h := range a {
		m[h]++
	}
	for _, h := range b {
		m[h]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// assertSameState replays the canonical branch into a fresh chain and
// compares the head and every account with the chain under test.
func assertSameState(t *testing.T, e *env, branch []*types.Block) {
	t.Helper()
	db, r := memChain(t, e.g, nil)
	defer db.Close()
	for _, b := range branch {
		if _, err := r.ImportBlock(b, nil); err != nil {
			t.Fatalf("replay: %v", err)
		}
	}
	h1, id1 := e.c.Head()
	h2, id2 := r.Head()
	if id1 != id2 || h1.StateRoot != h2.StateRoot {
		t.Fatalf("head %s (root %s), replay of the branch %s (root %s)", id1, h1.StateRoot, id2, h2.StateRoot)
	}
	if err := checkHeadState(e.c, e.db); err != nil {
		t.Fatal(err)
	}
	if err := checkHeadState(r, db); err != nil {
		t.Fatal(err)
	}
	if err := checkCanonical(e.c); err != nil {
		t.Fatal(err)
	}
	addrs, _, _, err := r.AccountsAt(h2.StateRoot, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		want, _ := r.Account(a)
		if got, _ := e.c.Account(a); got != want {
			t.Fatalf("account %s: %+v, replay %+v", a, got, want)
		}
	}
}

// TestFollowsFinality checks how the finalized block follows the finality
// gadget (its votes are consensus's business): it moves only where the
// gadget says and only once this chain has the block, never backwards, never
// to a block that conflicts with it, and a Result reports each move.
func TestFollowsFinality(t *testing.T) {
	ks := keys(t, 4)
	miners, users := ks[:3], ks[3:]
	type step struct {
		parent   int    // number of the parent block; 0 = the head
		finalize int    // before importing: the gadget's final block by number (1 = genesis); 0 = no change
		want     uint64 // finalized number after the import
	}
	rows := []struct {
		name  string
		steps []step
	}{
		{"sealers alone finalize nothing", []step{{0, 0, 1}, {0, 0, 1}, {0, 0, 1}, {0, 0, 1}}},
		{"the gadget's block, once it is here", []step{{0, 0, 1}, {0, 0, 1}, {0, 3, 3}, {0, 0, 3}}},
		{"a final block not yet imported waits", []step{{0, 4, 1}, {0, 0, 1}, {0, 0, 4}, {0, 0, 4}}},
		{"never backwards", []step{{0, 0, 1}, {0, 3, 3}, {0, 2, 3}, {0, 1, 3}}},
		// Blocks 2-3 and 2-4-5 are two branches; 3 becomes final, so 5,
		// though higher, conflicts with it.
		{"a conflicting final block is ignored", []step{{0, 0, 1}, {0, 0, 1}, {2, 0, 1}, {4, 0, 1}, {3, 3, 3}, {0, 5, 3}}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			g := testGenesisFinality(t, miners, users, "")
			db, c := memChain(t, g, nil)
			defer db.Close()
			fin := finOf(c)
			ids := []types.Hash{g.ChainID} // ids[n-1] is block n
			want, final := 0, 0
			var finals, wants []uint64
			for i, s := range row.steps {
				_, parentID := c.Head()
				if s.parent != 0 {
					parentID = ids[s.parent-1]
				}
				b := makeBlock(t, c, parentID, miners[i%3], uint64(10*(i+1)))
				ids = append(ids, b.ID())
				// A request names a block by number and binds once it exists.
				if s.finalize != 0 {
					want = s.finalize
				}
				if want != 0 && want <= len(ids) && want != final {
					fin.finalize(ids[want-1], 0)
					final = want
				}
				_, oldFinal := c.Finalized()
				r, err := c.ImportOwn(b)
				if err != nil {
					t.Fatal(err)
				}
				f, finID := c.Finalized()
				if (r.Finalized != nil) != (finID != oldFinal) || (r.Finalized != nil && r.FinalizedID != finID) {
					t.Fatalf("result finalized %v, chain %s (was %s)", r.FinalizedID, finID, oldFinal)
				}
				finals, wants = append(finals, f.Number), append(wants, s.want)
			}
			if !slices.Equal(finals, wants) {
				t.Fatalf("finalized numbers %v, want %v", finals, wants)
			}
			if err := checkCanonical(c); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestForkChoiceJustified: a chain with a higher justified checkpoint on it
// beats a taller one, whichever arrives first; at equal justified epochs
// height decides again.
func TestForkChoiceJustified(t *testing.T) {
	e := newEnv(t, 3, 1)
	bdb, builder := memChain(t, e.g, nil)
	defer bdb.Close()
	short := buildBranch(t, builder, e.miners, e.g.ChainID, seal{0, 1})
	tall := buildBranch(t, builder, e.miners, e.g.ChainID, seal{1, 2}, seal{1, 3}, seal{1, 4})
	for name, order := range map[string][]*types.Block{"short first": slices.Concat(short, tall), "tall first": slices.Concat(tall, short)} {
		t.Run(name, func(t *testing.T) {
			db, c := memChain(t, e.g, nil)
			defer db.Close()
			finOf(c).justify(short[0].ID(), 1)
			for _, b := range order {
				if _, err := c.ImportBlock(b, nil); err != nil {
					t.Fatal(err)
				}
			}
			if _, head := c.Head(); head != short[0].ID() {
				t.Fatalf("head is not the justified block (height 2) but a taller chain")
			}
			// Justifying the tall chain at the same epoch: height decides.
			finOf(c).justify(tall[0].ID(), 1)
			if r, err := c.Refresh(); err != nil || r == nil || r.Reorg == nil {
				t.Fatalf("refresh: %+v, %v", r, err)
			}
			if _, head := c.Head(); head != tall[2].ID() {
				t.Fatal("equal justified epochs: the taller chain must win")
			}
			if err := checkHeadState(c, db); err != nil {
				t.Fatal(err)
			}
			if err := checkCanonical(c); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func testGenesisFinality(t *testing.T, miners, users []*crypto.PrivateKey, finality string) *genesis.Genesis {
	f := genesis.File{NetworkID: 7, Timestamp: 1_700_000_000, Finality: finality}
	f.BlockMining.Interval = 1
	f.BlockMining.MaxBound = 1000
	f.BlockMining.Reward = 100
	f.BlockMining.AllowEmpty = true
	f.Alloc = map[string]genesis.Alloc{}
	for _, m := range miners {
		f.Miners = append(f.Miners, m.Address().String())
	}
	for _, u := range users {
		f.Alloc[u.Address().String()] = genesis.Alloc{Balance: 1000}
	}
	g, err := genesis.New(f)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestEquivocationAndReopen: one sealer signs two blocks for one slot;
// both are stored and the pair is recorded; head, finalized block and
// evidence survive closing and reopening the database.
func TestEquivocationAndReopen(t *testing.T) {
	e := newEnv(t, 3, 1)
	m0, m1 := e.miners[0], e.miners[1]
	u := e.users[0]
	x := makeBlock(t, e.c, e.g.ChainID, m0, 5)
	y := makeBlock(t, e.c, e.g.ChainID, m0, 5, e.tx(u, m1.Address(), 1, 1))
	if x.ID() == y.ID() {
		t.Fatal("test blocks are identical")
	}
	if r := e.mustImport(x); r.Equivocation {
		t.Fatal("first block flagged")
	}
	if r := e.mustImport(y); !r.Equivocation {
		t.Fatal("second block for the slot not flagged")
	}
	if !e.c.HasBlock(x.ID()) || !e.c.HasBlock(y.ID()) {
		t.Fatal("equivocating blocks must both be stored")
	}
	// An unrelated sealer at the same slot is no evidence.
	z := makeBlock(t, e.c, e.g.ChainID, m1, 5)
	if r := e.mustImport(z); r.Equivocation {
		t.Fatal("another sealer's block for the slot flagged")
	}
	ev, err := e.c.Evidence(10)
	if err != nil {
		t.Fatal(err)
	}
	checkEvidence := func(ev [][2]*types.Header) {
		t.Helper()
		if len(ev) != 1 {
			t.Fatalf("%d evidence records, want 1", len(ev))
		}
		ids := []types.Hash{ev[0][0].ID(), ev[0][1].ID()}
		if !sameSet(ids, []types.Hash{x.ID(), y.ID()}) {
			t.Fatal("evidence does not hold the two blocks")
		}
	}
	checkEvidence(ev)

	// Finalize something above genesis, then reopen.
	_, tip := e.c.Head()
	b := makeBlock(t, e.c, tip, m1, 6)
	e.mustImport(b)
	e.fin.finalize(b.ID(), b.Header.Slot)
	c := makeBlock(t, e.c, b.ID(), e.miners[2], 7)
	e.mustImport(c)
	head, headID := e.c.Head()
	fin, finID := e.c.Finalized()
	if headID != c.ID() || finID != b.ID() {
		t.Fatalf("head %d, finalized %d", head.Number, fin.Number)
	}
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	e.open()
	if _, id := e.c.Head(); id != headID {
		t.Fatal("head lost on reopen")
	}
	if _, id := e.c.Finalized(); id != finID {
		t.Fatal("finalized block lost on reopen")
	}
	ev, err = e.c.Evidence(10)
	if err != nil {
		t.Fatal(err)
	}
	checkEvidence(ev)
	if err := checkHeadState(e.c, e.db); err != nil {
		t.Fatal(err)
	}
	// A replayed equivocating block after the restart is known, not new.
	if _, err := e.c.ImportBlock(y, nil); !errors.Is(err, ErrKnownBlock) {
		t.Fatalf("reimport: %v", err)
	}
}

// AccountAt answers for the root it is asked about, whatever the head does
// meanwhile: the pool reads the state of the head it was last reset to
// while imports move the chain on, and a later head's nonces there looked
// like gaps. Readers of the head's root, and of the genesis root, run while
// blocks that change the sender commit; each must see its root's nonce.
func TestAccountAtStaysAtItsRoot(t *testing.T) {
	e := newEnv(t, 1, 2)
	u, to := e.users[0], e.users[1].Address()
	gen, _ := e.c.Head()
	var nonceAt sync.Map // state root -> the sender's nonce there
	nonceAt.Store(gen.StateRoot, uint64(0))

	stop := make(chan struct{})
	bad := make(chan string, 2)
	var wg sync.WaitGroup
	read := func(root func() types.Hash) {
		for {
			select {
			case <-stop:
				return
			default:
			}
			r := root()
			want, _ := nonceAt.Load(r)
			if got, err := e.c.AccountAt(r, u.Address()); err != nil || got.Nonce != want.(uint64) {
				bad <- fmt.Sprintf("root %s read as %+v, %v; want nonce %d", r, got, err, want)
				return
			}
		}
	}
	wg.Go(func() { read(func() types.Hash { return gen.StateRoot }) })
	wg.Go(func() { read(func() types.Hash { h, _ := e.c.Head(); return h.StateRoot }) })
	const blocks = 100
	for n := uint64(1); n <= blocks; n++ {
		b := e.block(e.head(), e.miners[0], e.tx(u, to, n, 1))
		nonceAt.Store(b.Header.StateRoot, n)
		e.mustImport(b)
	}
	close(stop)
	wg.Wait()
	select {
	case s := <-bad:
		t.Fatal(s)
	default:
	}
	if head, _ := e.c.Head(); head.Number != blocks+1 {
		t.Fatalf("head %d, want %d", head.Number, blocks+1)
	}
}
