package types

// Encoded sizes, computed without encoding: the block builder counts each
// candidate transaction against max_block_bytes, and block validation
// measures every block it receives.

// MaxBlockOverhead bounds what a sealed block's encoding adds to the
// encodings of its transactions: the outer array, the largest header the
// decoder accepts, the largest sealer key and signature, and the
// transaction array's header. The builder reserves it before the seal (and
// so the key, signature, time and nonce) exists.
const MaxBlockOverhead = 1 + maxHeaderLen + 3 + maxPublicKeyLen + 3 + maxSignatureLen + 5

func arrayLen(n int) int {
	switch {
	case n < 16:
		return 1
	case n <= 0xffff:
		return 3
	default:
		return 5
	}
}

func uintLen(v uint64) int {
	switch {
	case v < 0x80:
		return 1
	case v <= 0xff:
		return 2
	case v <= 0xffff:
		return 3
	case v <= 0xffffffff:
		return 5
	default:
		return 9
	}
}

func binLen(n int) int {
	switch {
	case n <= 0xff:
		return 2 + n
	case n <= 0xffff:
		return 3 + n
	default:
		return 5 + n
	}
}

// EncodedLen is len(t.Encode(nil)).
func (t *Transaction) EncodedLen() int {
	return arrayLen(9) + binLen(len(t.ChainID)) + uintLen(t.Nonce) + binLen(len(t.From)) + binLen(len(t.To)) +
		uintLen(t.Amount) + binLen(len(t.Data)) + uintLen(t.Time) + binLen(len(t.PublicKey)) + binLen(len(t.Signature))
}

// EncodedLen is len(h.Encode(nil)).
func (h *Header) EncodedLen() int {
	n := arrayLen(13) + uintLen(h.Version) + uintLen(h.Number) + uintLen(h.Slot) + uintLen(h.Time) +
		binLen(len(h.TxRoot)) + binLen(len(h.StateRoot)) + uintLen(h.Reward) + uintLen(h.Difficulty) +
		binLen(len(h.Data)) + uintLen(h.PowNonce)
	if h.IsGenesis() {
		return n + 3*binLen(0)
	}
	return n + binLen(len(h.ChainID)) + binLen(len(h.Parent)) + binLen(len(h.Sealer))
}

// EncodedLen is len(b.Encode(nil)): what max_block_bytes limits.
func (b *Block) EncodedLen() int {
	n := arrayLen(4) + b.Header.EncodedLen() + binLen(len(b.SealerKey)) + binLen(len(b.Signature)) + arrayLen(len(b.Txs))
	for _, t := range b.Txs {
		n += t.EncodedLen()
	}
	return n
}
