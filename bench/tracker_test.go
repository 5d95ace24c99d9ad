package bench

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/api"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// TestTrackerCountsInclusions follows a fake node through three blocks and
// a reorg that replaces two of them, and checks that every transaction is
// counted once, in the block of the winning fork, read from the txids
// route only; a node without that route is read through full blocks.
func TestTrackerCountsInclusions(t *testing.T) {
	cases := []struct {
		name    string
		noTxIDs bool // the node predates GET /blocks/{n}/txids
	}{
		{name: "txids route"},
		{name: "node without txids route", noTxIDs: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeChain(t, crypto.Address{})
			f.noTxIDs = tc.noTxIDs
			srv := f.server("a")
			recs := make([]*txRec, 4) // a, b, c, d
			hex := make([]string, len(recs))
			for i := range recs {
				recs[i] = &txRec{id: types.Hash{0xaa, byte(i + 1)}}
				hex[i] = recs[i].id.String()
			}
			led := newLedger(recs)
			trk := newTracker(&nodeClient{base: srv.URL, hc: srv.Client()}, led, hclog.NewNullLogger(), time.Now, 20*time.Millisecond)
			ctx, cancel := context.WithCancel(context.Background())
			if err := trk.start(ctx); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			wg.Go(func() { trk.run(ctx) })
			defer func() { cancel(); wg.Wait() }()

			// Blocks 1..3 hold a, b and c.
			for i := range 3 {
				f.mu.Lock()
				f.pool = append(f.pool, api.TxJSON{ID: hex[i], From: "s", Nonce: uint64(i + 1)})
				f.mu.Unlock()
				f.seal()
			}
			waitFor(t, "blocks 1-3 tracked", func() bool {
				fetched, _ := trk.position()
				return fetched == 3 && led.counts().included == 3
			})
			// Status polls repeating the head processed read nothing more.
			time.Sleep(10 * 20 * time.Millisecond)
			f.mu.Lock()
			if reads := f.txidReads + f.fullReads; reads != 3 {
				t.Errorf("%d block reads for 3 blocks and an idle head", reads)
			}
			f.mu.Unlock()
			// A fork from block 2 wins: 2' holds d, 3' holds b, 4' holds c.
			f.reorg(2, []string{hex[3]}, []string{hex[1]}, []string{hex[2]})
			waitFor(t, "the winning fork tracked", func() bool {
				fetched, _ := trk.position()
				return fetched == 4 && led.counts().included == 4
			})

			led.mu.Lock()
			for i, want := range []uint64{1, 3, 4, 2} {
				if recs[i].block != want {
					t.Errorf("tx %d in block %d, want %d", i, recs[i].block, want)
				}
			}
			led.mu.Unlock()
			f.mu.Lock()
			defer f.mu.Unlock()
			if tc.noTxIDs {
				if f.txidReads != 0 || f.fullReads < 4 {
					t.Errorf("%d txids reads and %d full block reads, want 0 and at least 4", f.txidReads, f.fullReads)
				}
				return
			}
			if f.fullReads != 0 || f.txidReads < 4 {
				t.Errorf("%d full block reads and %d txids reads, want 0 and at least 4", f.fullReads, f.txidReads)
			}
		})
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
