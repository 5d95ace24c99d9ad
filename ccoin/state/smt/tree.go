package smt

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
)

// DefaultCacheNodes is used by New when cacheNodes is not positive.
const DefaultCacheNodes = 1 << 16

// minCacheNodes keeps at least the top ten levels cached and a useful
// window of recent nodes; node software should pass far more (see New).
const minCacheNodes = 1 << 12

// Tree reads and updates sparse Merkle trees stored in a NodeReader. A Tree
// holds no root: every call names the root it works on, so one Tree serves
// all historical states. All methods are safe for concurrent use.
type Tree struct {
	r          NodeReader
	cache      *nodeCache
	cacheDepth int // nodes deeper than this are not cached
	recent     *recentNodes
}

// New returns a Tree reading nodes from r through a cache of about
// cacheNodes node encodings (set-associative, LRU within each set) that
// holds the upper levels of the tree, about log2(cacheNodes)-1 of them.
//
// Nodes made by Update are also kept readable in memory, apart from the
// cache, until at least cacheNodes/2 more nodes have been made, so a caller
// may chain Update calls before writing their batch as long as the chain
// makes fewer nodes than that (about 15-25 per updated key on a 1M tree; the
// default of 65536 covers chains of about 1,500 keys). Memory is bounded by
// about 2*cacheNodes encodings in all.
func New(r NodeReader, cacheNodes int) *Tree {
	if cacheNodes <= 0 {
		cacheNodes = DefaultCacheNodes
	}
	if cacheNodes < minCacheNodes {
		cacheNodes = minCacheNodes
	}
	// A full tree has 2^(d+1)-1 nodes down to depth d; fill about half the
	// slots so set conflicts rarely evict an upper node.
	depth := -2
	for n := cacheNodes; n > 1; n >>= 1 {
		depth++
	}
	return &Tree{r: r, cache: newNodeCache(cacheNodes), cacheDepth: depth, recent: newRecentNodes(cacheNodes)}
}

// load returns the verified encoding of a non-empty node at depth. A node
// that is absent is ErrNotFound for a root (an unknown state) and ErrCorrupt
// below one (a known state whose nodes are missing). Only the upper levels
// are cached: a random lookup would otherwise flush them with deep nodes
// that are rarely read twice.
func (t *Tree) load(h *Hash, depth int) ([]byte, error) {
	if enc, ok := t.cache.get(h); ok {
		return enc, nil
	}
	enc, err := t.r.GetNode(*h)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		// Made by an Update whose batch is not written yet?
		recent, ok := t.recent.get(h)
		if !ok {
			return nil, errMissing(*h, depth, err)
		}
		enc = recent
	} else if sha256.Sum256(enc) != *h {
		return nil, errMismatch(*h)
	}
	if depth <= t.cacheDepth {
		t.cache.add(h, enc)
	}
	return enc, nil
}

// The error helpers take hashes by value so that error formatting does not
// move the callers' hashes to the heap.

func errMissing(h Hash, depth int, err error) error {
	if depth == 0 {
		return fmt.Errorf("smt: root %x: %w", h[:], err)
	}
	return fmt.Errorf("%w: missing node %x: %w", ErrCorrupt, h[:], err)
}

func errMismatch(h Hash) error {
	return fmt.Errorf("%w: node %x does not match its hash", ErrCorrupt, h[:])
}

func errOffPath(key [KeySize]byte, depth int) error {
	return fmt.Errorf("%w: leaf %x off its path at depth %d", ErrCorrupt, key[:], depth)
}

func errAt(h Hash, err error) error {
	return fmt.Errorf("node %x: %w", h[:], err)
}

// loadNode loads and decodes a node found at depth.
func (t *Tree) loadNode(h *Hash, depth int, n *node) error {
	enc, err := t.load(h, depth)
	if err != nil {
		return err
	}
	if err := decodeNode(enc, n); err != nil {
		return errAt(*h, err)
	}
	if !n.leaf && depth >= KeyBits {
		return fmt.Errorf("%w: internal node at depth %d", ErrCorrupt, depth)
	}
	return nil
}

// Get returns the value stored under key in the tree with the given root.
// The returned slice is the caller's.
func (t *Tree) Get(root Hash, key [KeySize]byte) ([]byte, bool, error) {
	var n node
	h := root
	for depth := 0; ; depth++ {
		if h == emptyHash {
			return nil, false, nil
		}
		if err := t.loadNode(&h, depth, &n); err != nil {
			return nil, false, err
		}
		if n.leaf {
			if n.key != key {
				return nil, false, nil
			}
			return bytes.Clone(n.value), true, nil
		}
		if bit(&key, depth) == 0 {
			h = n.left
		} else {
			h = n.right
		}
	}
}

// ProofLeaf is a leaf met on a key's path that holds another key.
type ProofLeaf struct {
	Key   [KeySize]byte
	Value []byte
}

// Proof proves a key's value or its absence against a root. Siblings run
// from the root down, one per internal node on the key's path. Leaf is the
// other key's leaf that ends the path in an absence proof; it is nil when the
// path ends in an empty subtree or in the key's own leaf.
type Proof struct {
	Siblings []Hash
	Leaf     *ProofLeaf
}

// Prove returns the value under key (or its absence) and a proof of it.
func (t *Tree) Prove(root Hash, key [KeySize]byte) ([]byte, bool, Proof, error) {
	var (
		n node
		p Proof
	)
	h := root
	for depth := 0; ; depth++ {
		if h == emptyHash {
			return nil, false, p, nil
		}
		if err := t.loadNode(&h, depth, &n); err != nil {
			return nil, false, Proof{}, err
		}
		if n.leaf {
			if n.key != key {
				p.Leaf = &ProofLeaf{Key: n.key, Value: bytes.Clone(n.value)}
				return nil, false, p, nil
			}
			return bytes.Clone(n.value), true, p, nil
		}
		if p.Siblings == nil {
			p.Siblings = make([]Hash, 0, 32)
		}
		if bit(&key, depth) == 0 {
			p.Siblings = append(p.Siblings, n.right)
			h = n.left
		} else {
			p.Siblings = append(p.Siblings, n.left)
			h = n.right
		}
	}
}

// VerifyProof checks that p proves, against root, that key holds value
// (found) or that key is absent (!found, value empty). Any mismatch is
// ErrBadProof. Proofs must be canonical: exactly the siblings on the path.
func VerifyProof(root Hash, key [KeySize]byte, value []byte, found bool, p Proof) error {
	nsib := len(p.Siblings)
	if nsib > KeyBits {
		return fmt.Errorf("%w: %d siblings", ErrBadProof, nsib)
	}
	var cur Hash
	switch {
	case found:
		if p.Leaf != nil {
			return fmt.Errorf("%w: inclusion proof with another leaf", ErrBadProof)
		}
		if len(value) > MaxValueSize {
			return fmt.Errorf("%w: value of %d bytes", ErrBadProof, len(value))
		}
		cur = leafHash(&key, value)
	case len(value) != 0:
		return fmt.Errorf("%w: absence claim with a value", ErrBadProof)
	case p.Leaf != nil:
		if p.Leaf.Key == key {
			return fmt.Errorf("%w: absence proof ends in the key's own leaf", ErrBadProof)
		}
		if len(p.Leaf.Value) > MaxValueSize {
			return fmt.Errorf("%w: leaf value of %d bytes", ErrBadProof, len(p.Leaf.Value))
		}
		if !samePrefix(&p.Leaf.Key, &key, nsib) {
			return fmt.Errorf("%w: proof leaf is off the key's path", ErrBadProof)
		}
		cur = leafHash(&p.Leaf.Key, p.Leaf.Value)
	}
	// The node at the path's end always has a non-empty sibling: its parent
	// holds at least two leaves and this side holds at most one.
	if nsib > 0 && p.Siblings[nsib-1] == emptyHash {
		return fmt.Errorf("%w: empty last sibling", ErrBadProof)
	}
	for i := nsib - 1; i >= 0; i-- {
		if bit(&key, i) == 0 {
			cur = internalHash(&cur, &p.Siblings[i])
		} else {
			cur = internalHash(&p.Siblings[i], &cur)
		}
	}
	if cur != root {
		return fmt.Errorf("%w: root mismatch", ErrBadProof)
	}
	return nil
}

// Iterate calls fn for every (key, value) in key order. An error from fn
// stops the walk and is returned. fn owns the value slice it is given.
func (t *Tree) Iterate(root Hash, fn func(key [KeySize]byte, value []byte) error) error {
	return t.walk(root, 0, [KeySize]byte{}, nil, fn)
}

// IterateFrom is Iterate starting at the first key >= start, for paging.
func (t *Tree) IterateFrom(root Hash, start [KeySize]byte, fn func(key [KeySize]byte, value []byte) error) error {
	return t.walk(root, 0, [KeySize]byte{}, &start, fn)
}

// walk visits the subtree h at depth, whose path is the first depth bits of
// path, in order. start, when non-nil, is a lower bound that agrees with
// path on those bits.
func (t *Tree) walk(h Hash, depth int, path [KeySize]byte, start *[KeySize]byte, fn func([KeySize]byte, []byte) error) error {
	if h == emptyHash {
		return nil
	}
	var n node
	if err := t.loadNode(&h, depth, &n); err != nil {
		return err
	}
	if n.leaf {
		if !samePrefix(&n.key, &path, depth) {
			return errOffPath(n.key, depth)
		}
		if start != nil && bytes.Compare(n.key[:], start[:]) < 0 {
			return nil
		}
		return fn(n.key, bytes.Clone(n.value))
	}
	left, right := n.left, n.right
	// A one-leaf subtree must have been collapsed into its leaf; checking
	// here keeps a dump from silently accepting a malformed tree.
	if left == emptyHash || right == emptyHash {
		other := left
		if other == emptyHash {
			other = right
		}
		var c node
		if err := t.loadNode(&other, depth+1, &c); err != nil {
			return err
		}
		if c.leaf {
			return errAt(h, fmt.Errorf("%w: uncollapsed leaf", ErrCorrupt))
		}
	}
	rpath := path
	rpath[depth>>3] |= 0x80 >> uint(depth&7)
	if start != nil && bit(start, depth) == 1 {
		return t.walk(right, depth+1, rpath, start, fn)
	}
	if err := t.walk(left, depth+1, path, start, fn); err != nil {
		return err
	}
	return t.walk(right, depth+1, rpath, nil, fn)
}
