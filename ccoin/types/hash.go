package types

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Hash is a SHA-256 digest: ids, roots and chain ids.
type Hash [32]byte

// String is lowercase hex, the JSON and log form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zero bytes.
func (h Hash) IsZero() bool { return h == Hash{} }

// ParseHash accepts exactly 64 hex characters.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 64 {
		return h, fmt.Errorf("%w: hash must be 64 hex characters, got %d", ErrEncoding, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: %v", ErrEncoding, err)
	}
	return h, nil
}

func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// TxRoot commits to the ordered transaction ids of a block: a binary Merkle
// tree with domain-separated leaves (0x00‖id) and nodes (0x01‖l‖r), where an
// odd node is carried up unchanged rather than paired with itself, so no two
// different id lists share a root. The empty list has the zero root.
func TxRoot(ids []Hash) Hash {
	if len(ids) == 0 {
		return Hash{}
	}
	level := make([]Hash, len(ids))
	var buf [65]byte
	for i, id := range ids {
		buf[0] = 0x00
		copy(buf[1:], id[:])
		level[i] = sha256.Sum256(buf[:33])
	}
	for len(level) > 1 {
		next := level[:0:0]
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			buf[0] = 0x01
			copy(buf[1:33], level[i][:])
			copy(buf[33:], level[i+1][:])
			next = append(next, sha256.Sum256(buf[:]))
		}
		level = next
	}
	return level[0]
}
