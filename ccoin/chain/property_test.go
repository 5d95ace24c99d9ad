package chain

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

// propGenesis funds six accounts (two of them miners, so quorum is 2): five
// modestly and one with 2^62, so transfers near the top of uint64 are both
// possible and refused.
func propGenesis(t testing.TB, ks []*crypto.PrivateKey) *genesis.Genesis {
	f := genesis.File{NetworkID: 9, Timestamp: 1_700_000_000}
	f.BlockMining.Interval = 1
	f.BlockMining.MaxBound = 1000
	f.BlockMining.Reward = 100
	f.BlockMining.AllowEmpty = true
	f.Alloc = map[string]genesis.Alloc{}
	f.Miners = []string{ks[0].Address().String(), ks[1].Address().String()}
	for i, k := range ks {
		bal := uint64(10_000)
		if i == len(ks)-1 {
			bal = 1 << 62
		}
		f.Alloc[k.Address().String()] = genesis.Alloc{Balance: bal}
	}
	g, err := genesis.New(f)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// sigCache reuses signatures across rapid runs: shrinking and small
// domains make the same transfer come up again and again, and an RSA
// signature is the dominant cost of a run.
type sigCache struct {
	mu sync.Mutex
	m  map[sigKey]*types.Transaction
}

type sigKey struct {
	from, to      int
	nonce, amount uint64
}

func (s *sigCache) tx(t failer, g *genesis.Genesis, ks []*crypto.PrivateKey, to []crypto.Address, k sigKey) *types.Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tx, ok := s.m[k]; ok {
		return tx
	}
	tx := signTx(t, g, ks[k.from], to[k.to], k.nonce, k.amount)
	s.m[k] = tx
	return tx
}

// TestPropertyChain drives random blocks of valid and invalid transfers,
// with occasional sibling blocks (reorgs, refused branches below the
// finalized block), through BuildBlock, Seal and ImportOwn or ImportBlock,
// and checks after every block: supply conservation, flat table equals
// state tree, a consistent canonical index, finality only moving forward
// along the chain; at the end a replay of the same blocks into a fresh
// chain reaches the same head and state.
func TestPropertyChain(t *testing.T) {
	ks := keys(t, 6)
	g := propGenesis(t, ks)
	miners := ks[:2]
	dests := make([]crypto.Address, 0, len(ks)+1)
	for _, k := range ks {
		dests = append(dests, k.Address())
	}
	dests = append(dests, crypto.Address{0xfe, 0xed}) // never funded at genesis
	sigs := &sigCache{m: map[sigKey]*types.Transaction{}}
	amount := rapid.OneOf(
		rapid.Uint64Range(0, 12_000),
		rapid.Uint64Range(0, 12_000),
		rapid.SampledFrom([]uint64{1 << 62, 1<<62 + 1, 1 << 63, math.MaxUint64 - 100, math.MaxUint64 - 1, math.MaxUint64}),
	)
	nonceDelta := rapid.SampledFrom([]int{-1, 0, 0, 0, 0, 1})
	var stats struct{ offered, kept, reorgs, refused, blocks int }
	defer func() {
		t.Logf("blocks %d, reorgs %d, refused below finality %d, txs offered %d, kept %d",
			stats.blocks, stats.reorgs, stats.refused, stats.offered, stats.kept)
	}()

	rapid.Check(t, func(rt *rapid.T) {
		db, c := memChain(rt, g, nil)
		defer db.Close()
		var (
			raws     [][]byte
			lastID   types.Hash
			imported = map[types.Hash]bool{}
			order    []types.Hash
		)
		nBlocks := rapid.IntRange(1, 6).Draw(rt, "blocks")
		for bi := range nBlocks {
			// Usually extend the head; sometimes the last imported block
			// (perhaps a side branch); sometimes make a sibling one or two
			// levels down with a lower slot, which wins, loses or is
			// refused for leaving the finalized block.
			tipID := lastID
			if tipID == (types.Hash{}) || rapid.Bool().Draw(rt, "on-head") {
				_, tipID = c.Head()
			}
			tip, err := c.Header(tipID)
			if err != nil {
				rt.Fatalf("tip: %v", err)
			}
			parentID, parent, slot := tipID, tip, tip.Slot+2
			fork := false
			for range rapid.SampledFrom([]int{0, 0, 0, 1, 2}).Draw(rt, "fork-depth") {
				if parent.Number == 1 {
					break
				}
				fork = true
				parentID = parent.Parent
				if parent, err = c.Header(parentID); err != nil {
					rt.Fatalf("parent: %v", err)
				}
				slot = parent.Slot + 1
			}
			// Nonces are drawn relative to the parent state so that most
			// transfers are valid and the invalid ones are near misses.
			pending := map[int]uint64{}
			var txs []*types.Transaction
			for range rapid.IntRange(0, 4).Draw(rt, "txs") {
				from := rapid.IntRange(0, len(ks)-1).Draw(rt, "from")
				to := rapid.IntRange(0, len(dests)-1).Draw(rt, "to")
				if _, ok := pending[from]; !ok {
					acc, err := c.AccountAt(parent.StateRoot, ks[from].Address())
					if err != nil {
						rt.Fatalf("account: %v", err)
					}
					pending[from] = acc.Nonce
				}
				nonce := uint64(int64(pending[from]) + 1 + int64(nonceDelta.Draw(rt, "nonce")))
				if nonce == pending[from]+1 {
					pending[from]++
				}
				txs = append(txs, sigs.tx(rt, g, ks, dests, sigKey{from, to, nonce, amount.Draw(rt, "amount")}))
			}
			miner := miners[rapid.IntRange(0, 1).Draw(rt, "miner")]
			b := makeBlock(rt, c, parentID, miner, slot, txs...)
			if !isSubsequence(b.Txs, txs) {
				rt.Fatalf("block %d: BuildBlock kept transactions that were not offered, or reordered them", bi)
			}
			_, oldFinalID := c.Finalized()
			_, oldHeadID := c.Head()
			raw := b.Encode(nil)
			var res *Result
			if rapid.Bool().Draw(rt, "own") {
				res, err = c.ImportOwn(b)
			} else {
				dec, derr := types.DecodeBlock(raw)
				if derr != nil {
					rt.Fatalf("decode: %v", derr)
				}
				res, err = c.ImportBlock(dec, raw)
			}
			switch {
			case errors.Is(err, ErrBelowFinalized):
				if descends(c, parentID, oldFinalID) {
					rt.Fatalf("block %d refused, but its parent descends from the finalized block", bi)
				}
				stats.refused++
				continue
			case errors.Is(err, ErrKnownBlock) && imported[b.ID()]:
				continue
			case err != nil:
				rt.Fatalf("block %d (fork %v): %v", bi, fork, err)
			}
			if !descends(c, parentID, oldFinalID) {
				rt.Fatalf("block %d accepted on a branch that leaves the finalized block", bi)
			}
			imported[b.ID()] = true
			order = append(order, b.ID())
			lastID = b.ID()
			raws = append(raws, raw)
			if _, nh := c.Head(); res.Head && nh == b.ID() && (res.Reorg != nil) != (b.Header.Parent != oldHeadID) {
				rt.Fatalf("new head on %s, old head %s, reorg %+v", b.Header.Parent, oldHeadID, res.Reorg)
			}
			stats.blocks++
			stats.offered += len(txs)
			stats.kept += len(b.Txs)
			if res.Reorg != nil {
				stats.reorgs++
			}
			if err := checkFinalOnChain(c, oldFinalID); err != nil {
				rt.Fatalf("block %d: %v", bi, err)
			}
			if err := checkForkChoice(c); err != nil {
				rt.Fatalf("block %d: %v", bi, err)
			}
			// Sometimes a block becomes justified (the next import or a
			// refresh must take it into account).
			if rapid.IntRange(0, 3).Draw(rt, "justify") == 0 {
				jid := order[rapid.IntRange(0, len(order)-1).Draw(rt, "justified-block")]
				jh, _ := c.Header(jid)
				finOf(c).justify(jid, jh.Slot+uint64(rapid.IntRange(0, 2).Draw(rt, "epoch-after-slot")))
				if rapid.Bool().Draw(rt, "refresh") {
					if _, err := c.Refresh(); err != nil {
						rt.Fatalf("refresh after a justification: %v", err)
					}
					if err := checkForkChoice(c); err != nil {
						rt.Fatalf("block %d, after a justification: %v", bi, err)
					}
				}
			}
			// Sometimes the finality gadget finalizes a canonical block
			// between the final block and the head.
			fin, _ := c.Finalized()
			head, _ := c.Head()
			if head.Number > fin.Number && rapid.IntRange(0, 2).Draw(rt, "finalize") == 0 {
				n := rapid.Uint64Range(fin.Number+1, head.Number).Draw(rt, "final-number")
				id, err := c.CanonicalID(n)
				if err != nil {
					rt.Fatalf("canonical %d: %v", n, err)
				}
				_, before := c.Finalized()
				finOf(c).finalize(id, 0)
				if r, err := c.Refresh(); err != nil || r == nil || r.FinalizedID != id {
					rt.Fatalf("refresh after finalizing block %d: %+v, %v", n, r, err)
				}
				if err := checkFinalOnChain(c, before); err != nil {
					rt.Fatalf("block %d: %v", bi, err)
				}
			}
			if err := checkHeadState(c, db); err != nil {
				rt.Fatalf("block %d: %v", bi, err)
			}
			if err := checkCanonical(c); err != nil {
				rt.Fatalf("block %d: %v", bi, err)
			}
		}

		rdb, r := memChain(rt, g, nil)
		defer rdb.Close()
		for i, raw := range raws {
			b, err := types.DecodeBlock(raw)
			if err != nil {
				rt.Fatalf("decode: %v", err)
			}
			if _, err := r.ImportBlock(b, raw); err != nil {
				rt.Fatalf("replay block %d: %v", i, err)
			}
		}
		// The replay learns the same finality and justifications once it
		// has every block.
		for id, e := range finOf(c).JustifiedBlocks() {
			finOf(r).justify(id, e)
		}
		if _, f := c.Finalized(); f != g.ChainID {
			finOf(r).finalize(f, 0)
		}
		for _, x := range []*Chain{c, r} {
			if _, err := x.Refresh(); err != nil {
				rt.Fatalf("refresh: %v", err)
			}
		}
		h1, id1 := c.Head()
		h2, id2 := r.Head()
		if id1 != id2 || h1.StateRoot != h2.StateRoot {
			rt.Fatalf("replay head %s (root %s), original %s (root %s)", id2, h2.StateRoot, id1, h1.StateRoot)
		}
		if _, f1 := c.Finalized(); f1 != func() types.Hash { _, f := r.Finalized(); return f }() {
			rt.Fatalf("replay finalized a different block")
		}
		if err := checkHeadState(r, rdb); err != nil {
			rt.Fatalf("replay: %v", err)
		}
	})
}

// checkForkChoice checks the head against a full walk of the block tree
// under the finality gadget's current view (the head may take a shortcut).
func checkForkChoice(c *Chain) error {
	final, finalID := c.Finalized()
	best, _, err := c.walk(final, finalID, nil, c.cfg.Finality.JustifiedBlocks())
	if err != nil {
		return err
	}
	if _, head := c.Head(); head != best.id {
		return fmt.Errorf("head %s, a full fork-choice walk picks %s", head, best.id)
	}
	return nil
}

// isSubsequence reports whether kept is offered with some elements removed.
func isSubsequence(kept, offered []*types.Transaction) bool {
	j := 0
	for _, tx := range kept {
		for j < len(offered) && offered[j] != tx {
			j++
		}
		if j == len(offered) {
			return false
		}
		j++
	}
	return true
}

// checkFinalOnChain checks that the finalized block is canonical and that
// the previous finalized block is its ancestor (or itself).
func checkFinalOnChain(c *Chain, oldFinalID types.Hash) error {
	fin, finID := c.Finalized()
	if !c.IsCanonical(finID) {
		return errors.New("finalized block is not canonical")
	}
	old, err := c.Header(oldFinalID)
	if err != nil {
		return err
	}
	id, h := finID, fin
	for h.Number > old.Number {
		id = h.Parent
		if h, err = c.Header(id); err != nil {
			return err
		}
	}
	if id != oldFinalID {
		return errors.New("finality moved to a block off the previously finalized chain")
	}
	return nil
}

// descends reports whether ancestor is id or one of its ancestors.
func descends(c *Chain, id, ancestor types.Hash) bool {
	a, err := c.Header(ancestor)
	if err != nil {
		return false
	}
	for {
		h, err := c.Header(id)
		if err != nil || h.Number < a.Number {
			return false
		}
		if h.Number == a.Number {
			return id == ancestor
		}
		id = h.Parent
	}
}
