package p2p

import (
	"fmt"
	"testing"
	"time"

	"ccoin/ccoin/p2p/wire"
	"ccoin/ccoin/types"
)

// Blocks reach every node whole, byte for byte, each at most once per
// peer, whatever part of the block each node's pool already holds: each
// hop fetches what it lacks from the peer that announced it (the second
// hop from the first, which never sealed it). A block that arrives whole
// (BLK, as another implementation may send it) is relayed compact.
func TestCompactBlockGossip(t *testing.T) {
	tests := []struct {
		name  string
		links [][2]int // dialer, listener
		from  int
		pools [][]int // per node: indexes of the block's txs in its pool
		whole bool    // the first hop gets it in a BLK
	}{
		{"line, empty pools", [][2]int{{1, 0}, {2, 1}, {3, 2}}, 0, nil, false},
		{"line, partial pools", [][2]int{{1, 0}, {2, 1}, {3, 2}}, 0, [][]int{nil, {0, 1, 2, 30}, {5, 39}, nil}, false},
		{"star, full pools", [][2]int{{1, 0}, {2, 0}, {3, 0}}, 3, [][]int{seq(40), seq(40), seq(40), nil}, false},
		{"line, sent whole", [][2]int{{1, 0}, {2, 1}, {3, 2}}, 0, nil, true},
		{"star, sent whole", [][2]int{{1, 0}, {2, 0}, {3, 0}}, 3, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nodes := make([]*testNode, 4)
			for i := range nodes {
				nodes[i] = startNode(t, i, nil)
			}
			for _, l := range tc.links {
				link(t, nodes[l[0]], nodes[l[1]])
			}
			block := testBlock("compact "+tc.name, 40)
			for i, idx := range tc.pools {
				nodes[i].h.addToPool(t, block, idx...)
			}
			if tc.whole {
				nodes[tc.from].broadcastWhole(block)
			} else {
				nodes[tc.from].BroadcastBlock(block)
			}
			for i, n := range nodes {
				if i != tc.from {
					waitFor(t, fmt.Sprintf("block at node %d", i), func() bool { return n.h.hasBlock(block) })
				}
			}
			time.Sleep(200 * time.Millisecond) // let duplicate relays land
			for i, n := range nodes {
				if m := n.h.maxPerPeer(); m > 1 {
					t.Errorf("node %d got the block %d times from one peer", i, m)
				}
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// A node asks the announcer of a compact block for exactly the
// transactions its pool lacks, and bans an announcer whose answer is not
// what it announced; one that no longer holds the block is not an offence.
func TestCompactBlockFetchFromAnnouncer(t *testing.T) {
	block := testBlock("fetch", 3)
	id, head, txs, ids, err := types.SplitBlock(block)
	if err != nil {
		t.Fatal(err)
	}
	other := testBlock("other", 1)
	_, _, otherTxs, _, _ := types.SplitBlock(other)
	tests := []struct {
		name     string
		answer   [][]byte
		accepted bool
		banned   string
	}{
		{"the missing transaction", [][]byte{txs[1]}, true, ""},
		{"no longer held", nil, false, ""},
		{"another transaction", [][]byte{txs[0]}, false, "not the one announced"},
		{"not a transaction", [][]byte{{0x01}}, false, "does not decode"},
		{"a foreign transaction", [][]byte{otherTxs[0]}, false, "not the one announced"},
		{"too many", [][]byte{txs[1], txs[2]}, false, "answered 2 block transactions"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := startNode(t, 0, nil)
			a.h.addToPool(t, block, 0, 2)
			key := testKey(t, 3+i%2)
			rp := joinRaw(t, a.Addr(), key)
			cb := &wire.CompactBlock{Head: head}
			for _, x := range ids {
				cb.TxIDs = append(cb.TxIDs, x[:]...)
			}
			rp.send(t, cb)
			req := rp.readUntil(t, wire.HdrGetBlockTxs).(*wire.GetBlockTxs)
			if string(req.BlockID) != string(id[:]) || fmt.Sprint(req.Indexes) != "[1]" {
				t.Fatalf("asked for %x %v, want the block's tx 1 only", req.BlockID, req.Indexes)
			}
			rp.send(t, &wire.BlockTxs{ReqID: req.ReqID, Txs: tc.answer})
			if tc.banned != "" {
				rp.waitClosed(t)
				waitFor(t, "ban", func() bool { return a.isBanned(addrBanKey(key.Address())) })
				if !contains(a.logs.String(), tc.banned) {
					t.Errorf("log lacks %q", tc.banned)
				}
				return
			}
			if tc.accepted {
				waitFor(t, "block", func() bool { return a.h.hasBlock(block) })
			} else {
				time.Sleep(200 * time.Millisecond)
				if a.h.hasBlock(block) {
					t.Fatal("block accepted without its transactions")
				}
			}
			if len(a.Peers()) != 1 {
				t.Fatal("announcer dropped")
			}
		})
	}
}

// A node serves the transactions of a block it announced, by index; an
// index past the block's end gets an empty answer, not a wrong one.
func TestServeBlockTxs(t *testing.T) {
	a := startNode(t, 0, nil)
	key := testKey(t, 3)
	rp := joinRaw(t, a.Addr(), key)
	waitFor(t, "peer", func() bool { return len(a.Peers()) == 1 })
	block := testBlock("served", 5)
	id, _, txs, _, _ := types.SplitBlock(block)
	a.BroadcastBlock(block)
	cb := rp.readUntil(t, wire.HdrCompactBlock).(*wire.CompactBlock)
	if cb.Count() != 5 {
		t.Fatalf("compact block of %d txs", cb.Count())
	}
	for _, tc := range []struct {
		indexes []uint32
		want    [][]byte
	}{
		{[]uint32{1, 4}, [][]byte{txs[1], txs[4]}},
		{[]uint32{0, 5}, nil},
	} {
		rp.send(t, &wire.GetBlockTxs{ReqID: 1, BlockID: id[:], Indexes: tc.indexes})
		got := rp.readUntil(t, wire.HdrBlockTxs).(*wire.BlockTxs)
		if fmt.Sprint(got.Txs) != fmt.Sprint(tc.want) {
			t.Errorf("indexes %v: got %d txs", tc.indexes, len(got.Txs))
		}
	}
}

// readUntil reads frames until one with header arrives and decodes it.
func (rp *rawPeer) readUntil(t *testing.T, header string) wire.Message {
	t.Helper()
	rp.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer rp.conn.SetReadDeadline(time.Time{})
	for {
		h, body, err := wire.ReadFrame(rp.conn, wire.DefaultMaxFrame)
		if err != nil {
			t.Fatalf("waiting for %s: %v", header, err)
		}
		if h == header {
			m, err := wire.Decode(h, body)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
}
