package types

import (
	"testing"

	"pgregory.net/rapid"
)

// TestEncodedLen: the computed sizes equal the encodings' lengths for every
// width of every integer and byte field, and MaxBlockOverhead bounds what a
// block adds to its transactions.
func TestEncodedLen(t *testing.T) {
	num := rapid.OneOf(rapid.Uint64Range(0, 0x80), rapid.Uint64Range(0x80, 0x10000), rapid.Uint64())
	bin := func(max int) *rapid.Generator[[]byte] { return rapid.SliceOfN(rapid.Byte(), 0, max) }
	rapid.Check(t, func(rt *rapid.T) {
		tx := &Transaction{Nonce: num.Draw(rt, "nonce"), Amount: num.Draw(rt, "amount"), Time: num.Draw(rt, "time"),
			Data: bin(MaxTxData).Draw(rt, "data"), PublicKey: bin(maxPublicKeyLen).Draw(rt, "key"),
			Signature: bin(maxSignatureLen).Draw(rt, "sig")}
		if got, want := tx.EncodedLen(), len(tx.Encode(nil)); got != want {
			rt.Fatalf("tx EncodedLen %d, encoding %d", got, want)
		}
		h := Header{Version: HeaderVersion, Number: num.Draw(rt, "number"), Slot: num.Draw(rt, "slot"),
			Time: num.Draw(rt, "htime"), Reward: num.Draw(rt, "reward"), Difficulty: num.Draw(rt, "difficulty"),
			Data: bin(MaxBlockData).Draw(rt, "hdata"), PowNonce: num.Draw(rt, "pow")}
		b := &Block{Header: h, SealerKey: bin(maxPublicKeyLen).Draw(rt, "skey"), Signature: bin(maxSignatureLen).Draw(rt, "ssig")}
		for range rapid.SampledFrom([]int{0, 1, 15, 16, 17}).Draw(rt, "txs") {
			b.Txs = append(b.Txs, tx)
		}
		if got, want := b.EncodedLen(), len(b.Encode(nil)); got != want {
			rt.Fatalf("block EncodedLen %d, encoding %d (genesis %v)", got, want, h.IsGenesis())
		}
		if over := b.EncodedLen() - len(b.Txs)*tx.EncodedLen(); over > MaxBlockOverhead {
			rt.Fatalf("block adds %d bytes to its transactions, MaxBlockOverhead is %d", over, MaxBlockOverhead)
		}
	})
	big := &Block{Txs: make([]*Transaction, 70_000)}
	for i := range big.Txs {
		big.Txs[i] = sampleTx()
	}
	if got, want := big.EncodedLen(), len(big.Encode(nil)); got != want {
		t.Fatalf("block of %d txs: EncodedLen %d, encoding %d", len(big.Txs), got, want)
	}
}
