package state

import (
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// BenchmarkApplyBlock1000 executes 1,000 transfers among 200 accounts on
// an in-memory base and collects the sorted change list: the execution
// part of block import, without signatures or storage.
func BenchmarkApplyBlock1000(b *testing.B) {
	base := mapReader{}
	addr := func(i int) crypto.Address { return crypto.Address{byte(i), byte(i >> 8), 1} }
	for i := range 200 {
		base[addr(i)] = types.Account{Balance: 1_000_000}
	}
	blk := &types.Block{Header: types.Header{Sealer: crypto.Address{0x5e}, Reward: 1}}
	for i := range 1000 {
		blk.Txs = append(blk.Txs, xfer(addr(i%200), addr((i*7+3)%200), uint64(i/200+1), 1))
	}
	for b.Loop() {
		o := NewOverlay(base)
		if err := ApplyBlock(o, blk, chain); err != nil {
			b.Fatal(err)
		}
		_ = Updates(o.Changes())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/tx")
}

// BenchmarkVerifyTxs1000 checks 1,000 RSA-PSS signatures on all cores with
// a warm key cache (two keys).
func BenchmarkVerifyTxs1000(b *testing.B) {
	txs := signedB(b, 1000)
	keys := crypto.NewKeyCache(16)
	for b.Loop() {
		if i, err := VerifyTxs(txs, keys, nil); err != nil {
			b.Fatal(i, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/tx")
}

func BenchmarkChangesCodec(b *testing.B) {
	cs := make([]Change, 2000)
	for i := range cs {
		cs[i] = Change{Addr: crypto.Address{byte(i), byte(i >> 8)}, After: types.Account{Balance: uint64(i)}}
	}
	for b.Loop() {
		if _, err := DecodeChanges(EncodeChanges(cs)); err != nil {
			b.Fatal(err)
		}
	}
}

func signedB(b *testing.B, n int) []*types.Transaction {
	k, err := crypto.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	txs := make([]*types.Transaction, n)
	for i := range txs {
		txs[i] = &types.Transaction{ChainID: chain, Nonce: uint64(i + 1), From: k.Address(), To: bob, Amount: 1}
		if err := txs[i].Sign(k); err != nil {
			b.Fatal(err)
		}
	}
	return txs
}
