package state

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/types"
)

// mapReader is a committed state held in a map.
type mapReader map[crypto.Address]types.Account

func (m mapReader) Account(a crypto.Address) (types.Account, error) { return m[a], nil }

type failReader struct{ err error }

func (f failReader) Account(crypto.Address) (types.Account, error) { return types.Account{}, f.err }

var (
	chain = types.Hash{7}
	alice = crypto.Address{0xa1}
	bob   = crypto.Address{0xb0}
	carol = crypto.Address{0xc0}
)

func xfer(from, to crypto.Address, nonce, amount uint64) *types.Transaction {
	return &types.Transaction{ChainID: chain, Nonce: nonce, From: from, To: to, Amount: amount}
}

func TestApplyTxRules(t *testing.T) {
	base := mapReader{
		alice: {Balance: 100, Nonce: 4},
		bob:   {Balance: math.MaxUint64 - 10},
	}
	rows := []struct {
		name string
		tx   *types.Transaction
		want error
		// expected accounts after success
		from, to types.Account
	}{
		{"valid", xfer(alice, carol, 5, 40), nil, types.Account{Balance: 60, Nonce: 5}, types.Account{Balance: 40}},
		{"whole balance", xfer(alice, carol, 5, 100), nil, types.Account{Balance: 0, Nonce: 5}, types.Account{Balance: 100}},
		{"zero amount", xfer(alice, carol, 5, 0), nil, types.Account{Balance: 100, Nonce: 5}, types.Account{}},
		{"to self", xfer(alice, alice, 5, 70), nil, types.Account{Balance: 100, Nonce: 5}, types.Account{Balance: 100, Nonce: 5}},
		{"to self, whole balance", xfer(alice, alice, 5, 100), nil, types.Account{Balance: 100, Nonce: 5}, types.Account{Balance: 100, Nonce: 5}},
		{"wrong chain", &types.Transaction{ChainID: types.Hash{8}, Nonce: 5, From: alice, To: carol, Amount: 1}, ErrWrongChain, types.Account{}, types.Account{}},
		{"nonce reused", xfer(alice, carol, 4, 1), ErrNonceTooLow, types.Account{}, types.Account{}},
		{"nonce zero", xfer(alice, carol, 0, 1), ErrNonceTooLow, types.Account{}, types.Account{}},
		{"nonce gap", xfer(alice, carol, 6, 1), ErrNonceGap, types.Account{}, types.Account{}},
		{"nonce max", xfer(alice, carol, math.MaxUint64, 1), ErrNonceGap, types.Account{}, types.Account{}},
		{"one over balance", xfer(alice, carol, 5, 101), ErrInsufficientFunds, types.Account{}, types.Account{}},
		{"2^64-1", xfer(alice, carol, 5, math.MaxUint64), ErrInsufficientFunds, types.Account{}, types.Account{}},
		{"unknown sender", xfer(carol, alice, 1, 1), ErrInsufficientFunds, types.Account{}, types.Account{}},
		{"recipient overflow", xfer(alice, bob, 5, 11), ErrOverflow, types.Account{}, types.Account{}},
		{"recipient to the brim", xfer(alice, bob, 5, 10), nil, types.Account{Balance: 90, Nonce: 5}, types.Account{Balance: math.MaxUint64}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			o := NewOverlay(base)
			err := o.ApplyTx(row.tx, chain)
			if !errors.Is(err, row.want) || (row.want == nil) != (err == nil) {
				t.Fatalf("want %v, got %v", row.want, err)
			}
			if err != nil {
				if ch := o.Changes(); len(ch) != 0 {
					t.Fatalf("refused tx changed %d accounts", len(ch))
				}
				for _, a := range []crypto.Address{alice, bob, carol} {
					if got, _ := o.Get(a); got != base[a] {
						t.Fatalf("refused tx changed %s", a)
					}
				}
				return
			}
			if got, _ := o.Get(row.tx.From); got != row.from {
				t.Fatalf("sender %+v, want %+v", got, row.from)
			}
			if got, _ := o.Get(row.tx.To); got != row.to {
				t.Fatalf("recipient %+v, want %+v", got, row.to)
			}
		})
	}
}

func TestApplyTxReaderError(t *testing.T) {
	boom := errors.New("disk on fire")
	o := NewOverlay(failReader{boom})
	if err := o.ApplyTx(xfer(alice, bob, 1, 1), chain); !errors.Is(err, boom) {
		t.Fatalf("want the reader's error, got %v", err)
	}
	if err := o.Credit(alice, 1); !errors.Is(err, boom) {
		t.Fatalf("credit: want the reader's error, got %v", err)
	}
}

// TestChanges: sorted by address, only accounts whose value changed, with
// the committed value as Before, and the same result whatever order the
// accounts were touched in.
func TestChanges(t *testing.T) {
	base := mapReader{alice: {Balance: 100}, bob: {Balance: 50}, carol: {Balance: 7}}
	o := NewOverlay(base)
	must(t, o.ApplyTx(xfer(carol, alice, 1, 5), chain))
	must(t, o.ApplyTx(xfer(alice, bob, 1, 30), chain))
	must(t, o.ApplyTx(xfer(bob, alice, 1, 30), chain))
	// A refused tx that read dave leaves no trace.
	dave := crypto.Address{0xd0}
	if err := o.ApplyTx(xfer(dave, alice, 1, 1), chain); err == nil {
		t.Fatal("unfunded sender accepted")
	}
	must(t, o.Credit(crypto.Address{0x01}, 0)) // a zero reward changes nothing
	got := o.Changes()
	want := []Change{
		{Addr: alice, Before: types.Account{Balance: 100}, After: types.Account{Balance: 105, Nonce: 1}},
		{Addr: bob, Before: types.Account{Balance: 50}, After: types.Account{Balance: 50, Nonce: 1}},
		{Addr: carol, Before: types.Account{Balance: 7}, After: types.Account{Balance: 2, Nonce: 1}},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("changes\n%+v\nwant\n%+v", got, want)
	}
	if !slices.IsSortedFunc(got, func(a, b Change) int { return bytes.Compare(a.Addr[:], b.Addr[:]) }) {
		t.Fatal("changes not sorted")
	}
	ups := Updates(got)
	for i, u := range ups {
		acc, err := types.DecodeAccount(u.Value)
		if err != nil || u.Key != got[i].Addr || acc != got[i].After {
			t.Fatalf("update %d: %x %+v (%v)", i, u.Key, acc, err)
		}
	}
}

// An account changed and changed back is not in the changes: the tree and
// undo record must not see a no-op write.
func TestChangesOmitsRoundTrip(t *testing.T) {
	o := NewOverlay(mapReader{alice: {Balance: 10, Nonce: 1}})
	must(t, o.Credit(bob, 5))
	c, _ := o.change(bob)
	c.After = c.Before
	if len(o.Changes()) != 0 {
		t.Fatal("unchanged account reported")
	}
}

func TestCreditOverflow(t *testing.T) {
	o := NewOverlay(mapReader{alice: {Balance: math.MaxUint64 - 1}})
	must(t, o.Credit(alice, 1))
	if err := o.Credit(alice, 1); !errors.Is(err, ErrOverflow) {
		t.Fatalf("want ErrOverflow, got %v", err)
	}
	if got, _ := o.Get(alice); got.Balance != math.MaxUint64 {
		t.Fatalf("balance %d", got.Balance)
	}
}

func TestApplyBlock(t *testing.T) {
	base := mapReader{alice: {Balance: 100}, bob: {Balance: 10}}
	sealer := crypto.Address{0x5e}
	ok1, ok2 := xfer(alice, bob, 1, 10), xfer(bob, carol, 1, 20)
	rows := []struct {
		name string
		txs  []*types.Transaction
		want error
	}{
		{"empty block pays the reward", nil, nil},
		{"dependent transfers in order", []*types.Transaction{ok1, ok2}, nil},
		{"dependent transfers out of order", []*types.Transaction{ok2, ok1}, ErrInsufficientFunds},
		{"duplicate", []*types.Transaction{ok1, ok1}, ErrDuplicateTx},
		{"one bad among good", []*types.Transaction{ok1, xfer(alice, bob, 9, 1)}, ErrNonceGap},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			o := NewOverlay(base)
			b := &types.Block{Header: types.Header{Sealer: sealer, Reward: 3}, Txs: row.txs}
			err := ApplyBlock(o, b, chain)
			if !errors.Is(err, row.want) || (row.want == nil) != (err == nil) {
				t.Fatalf("want %v, got %v", row.want, err)
			}
			if err != nil {
				return
			}
			if got, _ := o.Get(sealer); got.Balance != 3 {
				t.Fatalf("reward %d", got.Balance)
			}
			var total uint64
			for _, ch := range o.Changes() {
				total += ch.After.Balance - ch.Before.Balance
			}
			if total != 3 {
				t.Fatalf("supply grew by %d, want the reward 3", total)
			}
		})
	}
	// A reward that would overflow the sealer makes the block invalid.
	o := NewOverlay(mapReader{sealer: {Balance: math.MaxUint64}})
	b := &types.Block{Header: types.Header{Sealer: sealer, Reward: 1}}
	if err := ApplyBlock(o, b, chain); !errors.Is(err, ErrOverflow) {
		t.Fatalf("want ErrOverflow, got %v", err)
	}
}

// TestBuildTxs keeps valid candidates in order, drops the rest, stops at
// max, and ends in the state a replay of exactly the kept ones reaches.
func TestBuildTxs(t *testing.T) {
	base := mapReader{alice: {Balance: 100}, bob: {Balance: 10}}
	cands := []*types.Transaction{
		xfer(alice, bob, 1, 10),
		xfer(alice, bob, 1, 10), // same nonce again: dropped
		xfer(bob, carol, 1, 20), // funded by the first
		xfer(carol, alice, 1, 500),
		xfer(alice, carol, 3, 1), // gap: dropped
		xfer(alice, carol, 2, 90),
		xfer(alice, carol, 3, 1), // now over balance
	}
	o := NewOverlay(base)
	kept, dropped := BuildTxs(o, cands, chain, 100, 1<<20)
	want := []*types.Transaction{cands[0], cands[2], cands[5]}
	if !slices.Equal(kept, want) {
		t.Fatalf("kept %d txs", len(kept))
	}
	if len(kept)+len(dropped) != len(cands) {
		t.Fatal("a candidate is neither kept nor dropped")
	}
	r := NewOverlay(base)
	if err := ApplyBlock(r, &types.Block{Txs: kept}, chain); err != nil {
		t.Fatalf("replay of the kept txs: %v", err)
	}
	if !slices.Equal(o.Changes(), r.Changes()) {
		t.Fatal("builder and replay disagree")
	}

	o = NewOverlay(base)
	kept, _ = BuildTxs(o, cands, chain, 2, 1<<20)
	if len(kept) != 2 {
		t.Fatalf("max 2, kept %d", len(kept))
	}

	// A byte budget for two encodings keeps two and stops at the third,
	// which waits rather than being dropped.
	o = NewOverlay(base)
	budget := cands[0].EncodedLen() + cands[2].EncodedLen()
	kept, dropped = BuildTxs(o, cands, chain, 100, budget)
	if !slices.Equal(kept, []*types.Transaction{cands[0], cands[2]}) || !slices.Equal(dropped, []*types.Transaction{cands[1]}) {
		t.Fatalf("budget of %d bytes: kept %d, dropped %d", budget, len(kept), len(dropped))
	}
	if o = NewOverlay(base); len(first(BuildTxs(o, cands, chain, 100, budget-1))) != 1 {
		t.Fatal("one byte short of two transactions must keep one")
	}
}

func first[T any](a, _ T) T { return a }

func TestChangesCodec(t *testing.T) {
	cs := []Change{
		{Addr: alice, Before: types.Account{Balance: 1, Nonce: 2}, After: types.Account{Balance: math.MaxUint64, Nonce: math.MaxUint64}},
		{Addr: bob},
	}
	enc := EncodeChanges(cs)
	if len(enc) != 2*changeLen {
		t.Fatalf("%d bytes", len(enc))
	}
	got, err := DecodeChanges(enc)
	if err != nil || !slices.Equal(got, cs) {
		t.Fatalf("round trip: %v", err)
	}
	if got, err := DecodeChanges(nil); err != nil || len(got) != 0 {
		t.Fatalf("empty record: %v", err)
	}
	for _, n := range []int{1, changeLen - 1, changeLen + 1, 2*changeLen - 1} {
		if _, err := DecodeChanges(enc[:n]); !errors.Is(err, types.ErrEncoding) {
			t.Fatalf("%d bytes: want ErrEncoding, got %v", n, err)
		}
	}
}

func signed(t *testing.T, n int) []*types.Transaction {
	sigKeys := cryptotest.Keys(t, 2)
	txs := make([]*types.Transaction, n)
	for i := range txs {
		k := sigKeys[i%2]
		txs[i] = &types.Transaction{ChainID: chain, Nonce: uint64(i + 1), From: k.Address(), To: bob, Amount: 1}
		if err := txs[i].Sign(k); err != nil {
			t.Fatal(err)
		}
	}
	return txs
}

// TestVerifyTxs covers the sequential (< 8) and parallel paths: the first
// bad index is reported, and skipped transactions are not checked.
func TestVerifyTxs(t *testing.T) {
	keys := crypto.NewKeyCache(16)
	for _, n := range []int{3, 20} {
		txs := signed(t, n)
		if i, err := VerifyTxs(txs, keys, nil); i != -1 || err != nil {
			t.Fatalf("n=%d: valid set refused at %d: %v", n, i, err)
		}
		bad := slices.Clone(txs)
		forged := *txs[n-1]
		forged.Amount = 1_000_000
		bad[n-1] = types.MustRedecode(&forged)
		unsigned := *txs[1]
		unsigned.Signature = nil
		bad[1] = types.MustRedecode(&unsigned)
		i, err := VerifyTxs(bad, keys, nil)
		if i != 1 || !errors.Is(err, ErrBadSignature) || !errors.Is(err, types.ErrUnsigned) {
			t.Fatalf("n=%d: want index 1 unsigned, got %d %v", n, i, err)
		}
		// Skipping the unsigned one leaves the forged one.
		i, err = VerifyTxs(bad, keys, func(tx *types.Transaction) bool { return tx.ID() == bad[1].ID() })
		if i != n-1 || !errors.Is(err, crypto.ErrBadSignature) {
			t.Fatalf("n=%d: want index %d forged, got %d %v", n, n-1, i, err)
		}
		if i, err := VerifyTxs(bad, keys, func(*types.Transaction) bool { return true }); i != -1 || err != nil {
			t.Fatalf("n=%d: everything skipped, got %d %v", n, i, err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
