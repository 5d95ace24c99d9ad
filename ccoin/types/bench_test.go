package types

import (
	"testing"

	"ccoin/ccoin/crypto"
)

func benchKey(b *testing.B) *crypto.PrivateKey {
	k, err := crypto.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func signedTx(b *testing.B, k *crypto.PrivateKey) *Transaction {
	tx := &Transaction{ChainID: Hash{1}, Nonce: 1, From: k.Address(), To: [20]byte{3}, Amount: 10, Time: 1}
	if err := tx.Sign(k); err != nil {
		b.Fatal(err)
	}
	return tx
}

func BenchmarkTxVerify(b *testing.B) {
	k := benchKey(b)
	tx := signedTx(b, k)
	keys := crypto.NewKeyCache(16)
	b.ResetTimer()
	for b.Loop() {
		if err := tx.VerifySignature(keys); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTxEncode(b *testing.B) {
	tx := signedTx(b, benchKey(b))
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		buf = tx.Encode(buf[:0])
	}
}

func BenchmarkTxDecode(b *testing.B) {
	enc := signedTx(b, benchKey(b)).Encode(nil)
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := DecodeTx(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBlockDecode1000(b *testing.B) {
	k := benchKey(b)
	tx := signedTx(b, k)
	blk := &Block{Header: Header{Version: 1, ChainID: Hash{1}, Number: 2, Parent: Hash{2}, Sealer: k.Address()}}
	for range 1000 {
		blk.Txs = append(blk.Txs, tx)
	}
	enc := blk.Encode(nil)
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := DecodeBlock(enc); err != nil {
			b.Fatal(err)
		}
	}
}
