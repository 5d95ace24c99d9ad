package txpool

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// TestPoolProperties drives a pool with random adds, blocks built from
// Pending, balance changes and rollbacks, and after every step checks that
// Pending is a valid execution order on the head state, that the counters
// and indexes agree, and that a block never makes the pool lose a
// transaction it had accepted and the block did not include.
func TestPoolProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		senders := []crypto.Address{addr(1), addr(2), addr(3), addr(4), addr(5)}
		recipients := append(slices.Clone(senders), addr(99))
		st := newState()
		for _, a := range senders {
			st.set(a, rapid.Uint64Range(0, 1000).Draw(rt, "balance"), rapid.Uint64Range(0, 5).Draw(rt, "nonce"))
		}
		p := New(Config{
			ChainID:       testChain,
			MaxTotal:      rapid.IntRange(3, 40).Draw(rt, "max-total"),
			MaxPerAccount: rapid.IntRange(1, 12).Draw(rt, "max-per-account"),
			MaxQueued:     rapid.IntRange(1, 10).Draw(rt, "max-queued"),
			MaxFutureGap:  rapid.Uint64Range(1, 6).Draw(rt, "max-gap"),
		}, st)
		var (
			lastBlock []*types.Transaction
			preBlock  map[crypto.Address]types.Account
			stamp     uint64 // makes ids distinct
		)
		allowed := []error{ErrKnown, ErrNonceTooLow, ErrNonceGap, ErrNonceTaken, ErrInsufficientFunds,
			ErrPoolFull, ErrAccountFull, ErrQueueFull}
		rt.Repeat(map[string]func(*rapid.T){
			"add": func(rt *rapid.T) {
				var batch []*types.Transaction
				for range rapid.IntRange(1, 5).Draw(rt, "batch") {
					from := rapid.SampledFrom(senders).Draw(rt, "from")
					cur, _ := st.AccountAt(types.Hash{}, from)
					stamp++
					batch = append(batch, &types.Transaction{
						ChainID: testChain,
						From:    from,
						Nonce:   cur.Nonce + rapid.Uint64Range(0, 9).Draw(rt, "nonce-offset"),
						To:      rapid.SampledFrom(recipients).Draw(rt, "to"),
						Amount:  rapid.Uint64Range(0, 300).Draw(rt, "amount"),
						Time:    stamp,
					})
				}
				if rapid.Bool().Draw(rt, "duplicate") {
					batch = append(batch, batch[0])
				}
				for i, err := range p.AddVerified(batch) {
					if err == nil {
						continue
					}
					if !slices.ContainsFunc(allowed, func(k error) bool { return errors.Is(err, k) }) {
						rt.Fatalf("tx %d: unexpected error %v", i, err)
					}
				}
			},
			"block": func(rt *rapid.T) {
				txs := p.Pending(rapid.IntRange(0, 15).Draw(rt, "block-size"))
				before := p.Content(1 << 20)
				next := st.snapshot()
				if err := apply(next, txs); err != nil {
					rt.Fatalf("pending is not executable: %v", err)
				}
				preBlock, lastBlock = st.snapshot(), txs
				st.mu.Lock()
				st.m = next
				st.mu.Unlock()
				if rapid.Bool().Draw(rt, "touch-all") {
					p.Reset(Head{})
				} else {
					p.Reset(Head{Touched: recipients})
				}
				included := map[types.Hash]bool{}
				for _, tx := range txs {
					included[tx.ID()] = true
				}
				for _, tx := range before {
					head, _ := st.AccountAt(types.Hash{}, tx.From)
					want := !included[tx.ID()] && tx.Nonce > head.Nonce
					if p.Has(tx.ID()) != want {
						rt.Fatalf("tx %s nonce %d (head nonce %d, included %v): pooled %v",
							tx.From, tx.Nonce, head.Nonce, included[tx.ID()], !want)
					}
				}
			},
			"foreign": func(rt *rapid.T) {
				// Another node's transaction for this nonce was included.
				a := rapid.SampledFrom(senders).Draw(rt, "account")
				cur, _ := st.AccountAt(types.Hash{}, a)
				spent := rapid.Uint64Range(0, cur.Balance).Draw(rt, "spent")
				st.set(a, cur.Balance-spent, cur.Nonce+1)
				p.Reset(Head{Touched: []crypto.Address{a}})
			},
			"balance": func(rt *rapid.T) {
				a := rapid.SampledFrom(senders).Draw(rt, "account")
				cur, _ := st.AccountAt(types.Hash{}, a)
				st.set(a, rapid.Uint64Range(0, 1000).Draw(rt, "new-balance"), cur.Nonce)
				p.Reset(Head{Touched: []crypto.Address{a}})
			},
			"rollback": func(rt *rapid.T) {
				if preBlock == nil {
					rt.Skip("no block to roll back")
				}
				st.mu.Lock()
				st.m = maps.Clone(preBlock)
				st.mu.Unlock()
				if rapid.Bool().Draw(rt, "reset-first") {
					p.Reset(Head{})
					p.AddVerified(lastBlock)
				} else {
					p.AddVerified(lastBlock)
					p.Reset(Head{})
				}
				preBlock, lastBlock = nil, nil
			},
			"": func(rt *rapid.T) {
				checkIndex(rt, p)
				stats := p.Stats()
				pending := p.Pending(1 << 20)
				if len(pending) != stats.Pending {
					rt.Fatalf("Pending returned %d, stats say %d", len(pending), stats.Pending)
				}
				if err := apply(st.snapshot(), pending); err != nil {
					rt.Fatalf("pending is not executable: %v", err)
				}
				if n := len(p.Content(1 << 20)); n != stats.Pending+stats.Queued {
					rt.Fatalf("content %d, stats %+v", n, stats)
				}
				perSender := map[crypto.Address]uint64{}
				for _, tx := range pending {
					perSender[tx.From]++
				}
				for _, a := range senders {
					head, _ := st.AccountAt(types.Hash{}, a)
					if n, _ := p.NextNonce(a); n != head.Nonce+1+perSender[a] {
						rt.Fatalf("NextNonce %d, head nonce %d, pending %d", n, head.Nonce, perSender[a])
					}
				}
			},
		})
	})
}
