package chain

import "testing"

// The header cache must hold its own copy of each header. Before: it held
// &b.Header, a pointer into the decoded block, so with 65,536 cached
// headers every block ever imported stayed in memory with all its
// transactions (a loaded 4-node devnet held 3.4 GB of them).
func TestHeaderCacheDoesNotPinBlocks(t *testing.T) {
	e := newEnv(t, 1, 2)
	u := e.users
	b := e.block(e.head(), e.miners[0], e.tx(u[0], u[1].Address(), 1, 5))
	res := e.mustImport(b)
	h, err := e.c.Header(res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if h == &b.Header {
		t.Fatal("the header cache points into the imported block")
	}
	if h.ID() != b.Header.ID() {
		t.Fatal("the cached header differs from the block's")
	}
}
