package smt

import (
	"crypto/sha256"
	"errors"
	"fmt"
)

// Hash is a node hash (SHA-256 of the node encoding); the zero Hash is the
// empty subtree.
type Hash = [32]byte

const (
	// KeySize is the size of a key (an account address).
	KeySize = 20
	// MaxValueSize bounds a value so a leaf encoding is bounded too.
	MaxValueSize = 256
	// KeyBits is the depth at which any two distinct keys have diverged.
	KeyBits = KeySize * 8

	tagLeaf     = 0x00
	tagInternal = 0x01

	leafHeader  = 1 + KeySize
	internalLen = 1 + 32 + 32
	maxLeafLen  = leafHeader + MaxValueSize
)

var (
	// ErrNotFound is returned by a NodeReader for an absent node, and by the
	// tree when the root itself is unknown.
	ErrNotFound = errors.New("smt: node not found")
	// ErrBadProof is returned by VerifyProof for any proof that does not
	// prove the claimed statement.
	ErrBadProof = errors.New("smt: bad proof")
	// ErrCorrupt is returned when a stored node is malformed, does not match
	// its hash, breaks the tree's shape, or is missing under a known root.
	ErrCorrupt = errors.New("smt: corrupt tree")
	// ErrValueTooLarge is returned by Update for a value over MaxValueSize.
	ErrValueTooLarge = errors.New("smt: value too large")
)

var emptyHash Hash

// bit returns bit i of key, MSB first.
func bit(key *[KeySize]byte, i int) byte {
	return (key[i>>3] >> (7 - uint(i&7))) & 1
}

// samePrefix reports whether a and b agree on their first n bits.
func samePrefix(a, b *[KeySize]byte, n int) bool {
	full := n >> 3
	for i := 0; i < full; i++ {
		if a[i] != b[i] {
			return false
		}
	}
	if rem := n & 7; rem != 0 {
		mask := byte(0xff) << (8 - uint(rem))
		return (a[full]^b[full])&mask == 0
	}
	return true
}

// node is a decoded view into an encoding; value aliases the encoding.
type node struct {
	leaf        bool
	key         [KeySize]byte
	value       []byte
	left, right Hash
}

// decodeNode validates an encoding's type byte and length.
func decodeNode(enc []byte, n *node) error {
	if len(enc) == 0 {
		return fmt.Errorf("%w: empty node encoding", ErrCorrupt)
	}
	switch enc[0] {
	case tagLeaf:
		if len(enc) < leafHeader || len(enc) > maxLeafLen {
			return fmt.Errorf("%w: leaf encoding of %d bytes", ErrCorrupt, len(enc))
		}
		n.leaf = true
		copy(n.key[:], enc[1:leafHeader])
		n.value = enc[leafHeader:]
	case tagInternal:
		if len(enc) != internalLen {
			return fmt.Errorf("%w: internal encoding of %d bytes", ErrCorrupt, len(enc))
		}
		n.leaf = false
		copy(n.left[:], enc[1:33])
		copy(n.right[:], enc[33:65])
		n.value = nil
		if n.left == emptyHash && n.right == emptyHash {
			return fmt.Errorf("%w: internal node with two empty children", ErrCorrupt)
		}
	default:
		return fmt.Errorf("%w: unknown node type %#x", ErrCorrupt, enc[0])
	}
	return nil
}

// leafHash hashes a leaf without allocating (value is at most MaxValueSize).
func leafHash(key *[KeySize]byte, value []byte) Hash {
	var buf [maxLeafLen]byte
	buf[0] = tagLeaf
	copy(buf[1:leafHeader], key[:])
	n := copy(buf[leafHeader:], value)
	return sha256.Sum256(buf[:leafHeader+n])
}

// internalHash hashes an internal node without allocating.
func internalHash(left, right *Hash) Hash {
	var buf [internalLen]byte
	buf[0] = tagInternal
	copy(buf[1:33], left[:])
	copy(buf[33:], right[:])
	return sha256.Sum256(buf[:])
}
