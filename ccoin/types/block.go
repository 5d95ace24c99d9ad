package types

import (
	"errors"
	"fmt"

	"ccoin/ccoin/crypto"
)

// MaxBlockTxs bounds the transaction count a decoder accepts; consensus
// limits (max_bound) are checked later and are much lower.
const MaxBlockTxs = 100_000

// Block errors.
var ErrBadSeal = errors.New("block seal is invalid")

// Block is a header, the sealer's key and signature, and the transactions.
type Block struct {
	Header    Header
	SealerKey []byte // PKIX DER; empty only in genesis
	Signature []byte // RSA-PSS by the sealer with the block id as digest
	Txs       []*Transaction

	id    Hash
	hasID bool
}

// ID is the block id (cached after decode or seal).
func (b *Block) ID() Hash {
	if b.hasID {
		return b.id
	}
	return b.Header.ID()
}

// Encode appends [header, sealer_key, signature, [txs]].
func (b *Block) Encode(p []byte) []byte {
	p = appendArray(p, 4)
	p = b.Header.Encode(p)
	p = appendBin(p, b.SealerKey)
	p = appendBin(p, b.Signature)
	p = appendArray(p, len(b.Txs))
	for _, t := range b.Txs {
		p = t.Encode(p)
	}
	return p
}

// TxIDs lists the transaction ids in block order.
func (b *Block) TxIDs() []Hash {
	ids := make([]Hash, len(b.Txs))
	for i, t := range b.Txs {
		ids[i] = t.ID()
	}
	return ids
}

// Seal signs the block with k, whose address must be the header's sealer,
// after the proof of work was found. It caches the id.
func (b *Block) Seal(k *crypto.PrivateKey) error {
	if k.Address() != b.Header.Sealer {
		return fmt.Errorf("%w: key %s, sealer %s", ErrBadSeal, k.Address(), b.Header.Sealer)
	}
	id, err := b.Header.CheckPow()
	if err != nil {
		return err
	}
	sig, err := k.Sign(id)
	if err != nil {
		return err
	}
	b.SealerKey, b.Signature = k.Public().DER(), sig
	b.id, b.hasID = id, true
	return nil
}

// VerifySeal checks the proof of work, that the sealer key hashes to the
// sealer and that it signed the block id.
func (b *Block) VerifySeal(keys *crypto.KeyCache) error {
	id, err := b.Header.CheckPow()
	if err != nil {
		return err
	}
	var pub *crypto.PublicKey
	if keys != nil {
		pub, err = keys.Parse(b.SealerKey)
	} else {
		pub, err = crypto.ParsePublicKey(b.SealerKey)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadSeal, err)
	}
	if pub.Address() != b.Header.Sealer {
		return fmt.Errorf("%w: sealer key hashes to %s, sealer is %s", ErrBadSeal, pub.Address(), b.Header.Sealer)
	}
	if err := pub.Verify(id, b.Signature); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSeal, err)
	}
	return nil
}

// PeekBlockID returns the id of an encoded block from its header alone,
// without decoding its transactions: a node checks whether it has a block
// before it pays for the body (gossip delivers most blocks several times).
// The rest of the encoding is not checked; DecodeBlock does that.
func PeekBlockID(p []byte) (Hash, error) {
	r := reader{b: p}
	r.array(4)
	h := readHeader(&r)
	if r.err != nil {
		return Hash{}, fmt.Errorf("block: %w", r.err)
	}
	return h.ID(), nil
}

// DecodeBlock parses a block and refuses trailing bytes.
func DecodeBlock(p []byte) (*Block, error) {
	r := reader{b: p}
	r.array(4)
	b := &Block{}
	h := readHeader(&r)
	if h != nil {
		b.Header = *h
	}
	b.SealerKey = r.bin(maxPublicKeyLen)
	b.Signature = r.bin(maxSignatureLen)
	n := r.arrayLen(MaxBlockTxs)
	if r.err == nil && n > 0 {
		b.Txs = make([]*Transaction, 0, n)
	}
	for i := 0; i < n && r.err == nil; i++ {
		if t := readTx(&r); t != nil {
			b.Txs = append(b.Txs, t)
		}
	}
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("block: %w", err)
	}
	b.SealerKey = append([]byte(nil), b.SealerKey...)
	b.Signature = append([]byte(nil), b.Signature...)
	b.id, b.hasID = b.Header.ID(), true
	return b, nil
}

// SplitBlock cuts a block encoding into what a compact block carries: its
// head (the same encoding with an empty transaction list: header, sealer
// key, signature) and the ids of its transactions, plus the transactions'
// encodings as sub-slices of p. The transactions are parsed for their ids,
// not verified.
func SplitBlock(p []byte) (id Hash, head []byte, txs [][]byte, ids []Hash, err error) {
	r := reader{b: p}
	r.array(4)
	h := readHeader(&r)
	r.bin(maxPublicKeyLen)
	r.bin(maxSignatureLen)
	headEnd := r.off
	n := r.arrayLen(MaxBlockTxs)
	if r.err == nil {
		txs, ids = make([][]byte, 0, n), make([]Hash, 0, n)
	}
	for i := 0; i < n && r.err == nil; i++ {
		start := r.off
		if t := readTx(&r); t != nil {
			txs = append(txs, p[start:r.off:r.off])
			ids = append(ids, t.ID())
		}
	}
	if err := r.end(); err != nil {
		return Hash{}, nil, nil, nil, fmt.Errorf("block: %w", err)
	}
	head = append(append(make([]byte, 0, headEnd+1), p[:headEnd]...), 0x90)
	return h.ID(), head, txs, ids, nil
}

// AssembleBlock is SplitBlock's inverse: the block encoding whose head is
// head (a block encoding with an empty transaction list) and whose
// transactions are txs. Nothing is verified; DecodeBlock and the chain's
// rules do that, as for any block that arrives whole.
func AssembleBlock(head []byte, txs [][]byte) ([]byte, error) {
	if len(head) == 0 || head[len(head)-1] != 0x90 {
		return nil, fmt.Errorf("%w: block head does not end with an empty transaction list", ErrEncoding)
	}
	size := len(head) + 4
	for _, t := range txs {
		size += len(t)
	}
	out := make([]byte, 0, size)
	out = append(out, head[:len(head)-1]...)
	out = appendArray(out, len(txs))
	for _, t := range txs {
		out = append(out, t...)
	}
	return out, nil
}
