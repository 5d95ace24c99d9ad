package types

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"ccoin/ccoin/crypto"
)

// Limits on transaction fields; decoding refuses anything larger.
const (
	MaxTxData       = 1024
	maxPublicKeyLen = 1024
	maxSignatureLen = 512
)

// Transaction errors.
var (
	ErrUnsigned     = errors.New("transaction is not signed")
	ErrFromMismatch = errors.New("public key does not hash to from")
)

// Transaction is a signed transfer with an optional data payload.
type Transaction struct {
	ChainID   Hash
	Nonce     uint64
	From      crypto.Address
	To        crypto.Address
	Amount    uint64
	Data      []byte
	Time      uint64 // unix ms, informative only
	PublicKey []byte // PKIX DER
	Signature []byte // RSA-PSS/SHA-256 over the unsigned encoding

	id    Hash
	hasID bool
}

// EncodeUnsigned appends the 7-field encoding that is hashed and signed.
func (t *Transaction) EncodeUnsigned(b []byte) []byte {
	b = appendArray(b, 7)
	return t.appendFields(b)
}

func (t *Transaction) appendFields(b []byte) []byte {
	b = appendBin(b, t.ChainID[:])
	b = appendUint(b, t.Nonce)
	b = appendBin(b, t.From[:])
	b = appendBin(b, t.To[:])
	b = appendUint(b, t.Amount)
	b = appendBin(b, t.Data)
	return appendUint(b, t.Time)
}

// Encode appends the 9-field signed encoding, the form that travels and is stored.
func (t *Transaction) Encode(b []byte) []byte {
	b = appendArray(b, 9)
	b = t.appendFields(b)
	b = appendBin(b, t.PublicKey)
	return appendBin(b, t.Signature)
}

// ID is the SHA-256 of the unsigned encoding. Two signatures of one
// transaction share it.
func (t *Transaction) ID() Hash {
	if t.hasID {
		return t.id
	}
	var buf [256 + MaxTxData]byte
	return sha256.Sum256(t.EncodeUnsigned(buf[:0]))
}

// Sign fills PublicKey and Signature with k, which must own From.
func (t *Transaction) Sign(k *crypto.PrivateKey) error {
	if k.Address() != t.From {
		return fmt.Errorf("%w: key %s signs for %s", ErrFromMismatch, k.Address(), t.From)
	}
	t.hasID = false
	id := t.ID()
	sig, err := k.Sign(id)
	if err != nil {
		return err
	}
	t.PublicKey = k.Public().DER()
	t.Signature = sig
	t.id, t.hasID = id, true
	return nil
}

// VerifySignature checks that the public key is an acceptable RSA key, hashes
// to From, and signed the transaction. keys may be nil.
func (t *Transaction) VerifySignature(keys *crypto.KeyCache) error {
	if len(t.PublicKey) == 0 || len(t.Signature) == 0 {
		return ErrUnsigned
	}
	var (
		pub *crypto.PublicKey
		err error
	)
	if keys != nil {
		pub, err = keys.Parse(t.PublicKey)
	} else {
		pub, err = crypto.ParsePublicKey(t.PublicKey)
	}
	if err != nil {
		return err
	}
	if pub.Address() != t.From {
		return fmt.Errorf("%w: key hashes to %s, from is %s", ErrFromMismatch, pub.Address(), t.From)
	}
	return keys.Verify(pub, t.ID(), t.Signature)
}

// Size is the length of the signed encoding.
func (t *Transaction) Size() int {
	return len(t.Encode(nil))
}

// DecodeTx parses one signed transaction and refuses trailing bytes.
func DecodeTx(p []byte) (*Transaction, error) {
	r := reader{b: p}
	t := readTx(&r)
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("transaction: %w", err)
	}
	return t, nil
}

func readTx(r *reader) *Transaction {
	start := r.off
	r.array(9)
	t := &Transaction{}
	r.fixed(t.ChainID[:], false)
	t.Nonce = r.uint()
	r.fixed(t.From[:], false)
	r.fixed(t.To[:], false)
	t.Amount = r.uint()
	t.Data = bytes.Clone(r.bin(MaxTxData))
	t.Time = r.uint()
	unsignedEnd := r.off
	// Copies, so a pooled transaction never pins the whole frame it came in.
	t.PublicKey = bytes.Clone(r.bin(maxPublicKeyLen))
	t.Signature = bytes.Clone(r.bin(maxSignatureLen))
	if r.err != nil {
		return nil
	}
	// The unsigned encoding is the signed one with a 7-element array header
	// (both fit in one fixarray byte), so the id needs no re-encoding.
	var buf [256 + MaxTxData]byte
	u := append(buf[:0], 0x97)
	u = append(u, r.b[start+1:unsignedEnd]...)
	t.id, t.hasID = sha256.Sum256(u), true
	return t
}

// MustRedecode re-encodes and decodes t, dropping its cached id: tests use
// it to model a transaction altered in transit.
func MustRedecode(t *Transaction) *Transaction {
	d, err := DecodeTx(t.Encode(nil))
	if err != nil {
		panic(err)
	}
	return d
}
