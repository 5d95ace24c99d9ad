package chain

import (
	"slices"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/rawdb"
	"ccoin/ccoin/types"
)

func addrTxIDs(t *testing.T, c *Chain, a crypto.Address, before uint64, limit int) []types.Hash {
	t.Helper()
	got, err := c.AddressTxs(a, before, limit)
	if err != nil {
		t.Fatal(err)
	}
	var ids []types.Hash
	for _, x := range got {
		loc, idx, err := c.TxLocation(x.TxID)
		if err != nil {
			t.Fatalf("indexed tx %s is not canonical: %v", x.TxID, err)
		}
		if cid, _ := c.CanonicalID(x.Number); cid != loc || idx != x.Index {
			t.Fatalf("entry %+v disagrees with the tx index (%s, %d)", x, loc, idx)
		}
		ids = append(ids, x.TxID)
	}
	return ids
}

// The address index lists an account's canonical transfers newest first,
// sent and received, bounded by limit, paged by before, and follows a reorg.
func TestAddressTxs(t *testing.T) {
	e := newEnv(t, 3, 3)
	m0, m1 := e.miners[0], e.miners[1]
	u0, u1, u2 := e.users[0], e.users[1], e.users[2]

	tx1 := e.tx(u0, u1.Address(), 1, 100)
	tx2 := e.tx(u2, u0.Address(), 1, 200)
	tx3 := e.tx(u0, u2.Address(), 2, 300)
	tx4 := e.tx(u1, u2.Address(), 1, 400)
	self := e.tx(u1, u1.Address(), 2, 1)

	a1 := makeBlock(t, e.c, e.g.ChainID, m0, 10, tx1, tx2)
	e.mustImport(a1)
	a2 := makeBlock(t, e.c, a1.ID(), m0, 11, tx3)
	e.mustImport(a2)

	for _, c := range []struct {
		name   string
		addr   crypto.Address
		before uint64
		limit  int
		want   []*types.Transaction
	}{
		{"sent and received, newest first", u0.Address(), 0, 10, []*types.Transaction{tx3, tx2, tx1}},
		{"limit", u0.Address(), 0, 2, []*types.Transaction{tx3, tx2}},
		{"same block: higher index first", u0.Address(), 3, 10, []*types.Transaction{tx2, tx1}},
		{"received only", u1.Address(), 0, 10, []*types.Transaction{tx1}},
		{"nothing", m1.Address(), 0, 10, nil},
		{"zero limit", u0.Address(), 0, 0, nil},
	} {
		var want []types.Hash
		for _, tx := range c.want {
			want = append(want, tx.ID())
		}
		if got := addrTxIDs(t, e.c, c.addr, c.before, c.limit); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", c.name, got, want)
		}
	}

	// A longer branch without tx3 and with tx4 and a self-transfer replaces
	// a1, a2: the index follows the canonical chain.
	b1 := makeBlock(t, e.c, e.g.ChainID, m1, 20, tx1, tx4)
	e.mustImport(b1)
	b2 := makeBlock(t, e.c, b1.ID(), m1, 21, self)
	e.mustImport(b2)
	b3 := makeBlock(t, e.c, b2.ID(), m1, 22)
	if r := e.mustImport(b3); r.Reorg == nil {
		t.Fatal("no reorg")
	}
	for _, c := range []struct {
		addr crypto.Address
		want []*types.Transaction
	}{
		{u0.Address(), []*types.Transaction{tx1}},
		{u1.Address(), []*types.Transaction{self, tx4, tx1}}, // the self-transfer once
		{u2.Address(), []*types.Transaction{tx4}},
	} {
		var want []types.Hash
		for _, tx := range c.want {
			want = append(want, tx.ID())
		}
		if got := addrTxIDs(t, e.c, c.addr, 0, MaxAddressTxs+1); !slices.Equal(got, want) {
			t.Errorf("after the reorg, %s: got %v, want %v", c.addr, got, want)
		}
	}
}

// The index keeps only the newest AddressIndexBlocks blocks: each new block
// drops the entries of the block leaving the window.
func TestAddressTxsWindow(t *testing.T) {
	e := newEnv(t, 1, 2)
	e.c.cfg.AddressIndexBlocks = 2
	m := e.miners[0]
	u0, u1 := e.users[0], e.users[1]
	var txs []*types.Transaction
	parent := e.g.ChainID
	for i := range 4 { // blocks 2..5, one transfer each
		tx := e.tx(u0, u1.Address(), uint64(i+1), 10)
		b := makeBlock(t, e.c, parent, m, uint64(10+i), tx)
		e.mustImport(b)
		parent = b.ID()
		txs = append(txs, tx)
	}
	want := []types.Hash{txs[3].ID(), txs[2].ID()} // blocks 5 and 4
	for _, a := range []crypto.Address{u0.Address(), u1.Address()} {
		if got := addrTxIDs(t, e.c, a, 0, 10); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want the two newest blocks' %v", a, got, want)
		}
	}
	// Nothing else is left in the table.
	it := rawdb.NewAddressTxIterator(e.db)
	n := 0
	for it.Next() {
		n++
	}
	it.Release()
	if n != 4 {
		t.Errorf("%d index entries, want 4 (2 blocks × 2 parties)", n)
	}
}
