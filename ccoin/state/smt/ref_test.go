package smt

import (
	"bytes"
	"crypto/sha256"
	"sort"
)

// refPair is one (key, value) for the reference implementation.
type refPair struct {
	key   [20]byte
	value []byte
	bits  string
}

// refBit is written independently of bit(): the key as a string of bits.
func refBits(key [20]byte) string {
	var b []byte
	for _, c := range key {
		for j := 7; j >= 0; j-- {
			b = append(b, '0'+(c>>uint(j))&1)
		}
	}
	return string(b)
}

// refRoot computes the root straight from the definition: empty is zero,
// one pair is its leaf, more pairs split on the next bit into an internal
// node.
func refRoot(m map[[20]byte][]byte) Hash {
	pairs := make([]refPair, 0, len(m))
	for k, v := range m {
		pairs = append(pairs, refPair{k, v, refBits(k)})
	}
	sort.Slice(pairs, func(i, j int) bool { return bytes.Compare(pairs[i].key[:], pairs[j].key[:]) < 0 })
	return refSubtree(pairs, 0)
}

func refSubtree(pairs []refPair, depth int) Hash {
	switch len(pairs) {
	case 0:
		return Hash{}
	case 1:
		enc := append([]byte{0x00}, pairs[0].key[:]...)
		enc = append(enc, pairs[0].value...)
		return sha256.Sum256(enc)
	}
	var left, right []refPair
	for _, p := range pairs {
		if p.bits[depth] == '0' {
			left = append(left, p)
		} else {
			right = append(right, p)
		}
	}
	l, r := refSubtree(left, depth+1), refSubtree(right, depth+1)
	enc := append([]byte{0x01}, l[:]...)
	enc = append(enc, r[:]...)
	return sha256.Sum256(enc)
}
