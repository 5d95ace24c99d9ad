package smt

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"runtime"
	"slices"
)

// Update sets Key to Value; a nil Value deletes Key. A non-nil empty Value is
// a present, empty value.
type Update struct {
	Key   [KeySize]byte
	Value []byte
}

// kind is what a subtree turned out to be after an update.
type kind uint8

const (
	kindEmpty kind = iota
	kindLeaf
	kindInternal
	kindUnknown // untouched, non-empty subtree not loaded
)

type result struct {
	h Hash
	k kind
}

// leafRef is an existing leaf pushed down while inserting next to it.
type leafRef struct {
	key   [KeySize]byte
	value []byte
	h     Hash
}

const arenaChunk = 32 << 10

// updater carries the state of one Update call, or of one of its parallel
// workers. New encodings are carved out of shared chunks to avoid one
// allocation per node.
type updater struct {
	t     *Tree
	w     NodeWriter // nil in a worker: its nodes are held for the caller
	chunk []byte
	made  []newNode   // handed to t.recent in chunks, one lock each
	held  [][]newNode // a worker's chunks, to be written by its parent
}

const (
	madeChunk = 512
	// parallelMin is the fewest updates worth a goroutine for a subtree.
	parallelMin = 128
	maxFan      = 16
)

// Update applies ups to the tree with the given root and returns the new
// root. New nodes go to w (nothing is deleted, so root stays readable) and
// are kept readable in memory (see New), so later calls can read them before
// w is persisted. Later duplicates of a key win; the result depends only on
// the final key set. ups is not modified. w is only called from the calling
// goroutine, though large batches are worked on by several goroutines.
func (t *Tree) Update(root Hash, ups []Update, w NodeWriter) (Hash, error) {
	return t.update(root, ups, w, min(2*runtime.GOMAXPROCS(0), maxFan))
}

// update is Update spread over at most fan goroutines.
func (t *Tree) update(root Hash, ups []Update, w NodeWriter, fan int) (Hash, error) {
	if len(ups) == 0 {
		return root, nil
	}
	for i := range ups {
		if len(ups[i].Value) > MaxValueSize {
			return root, fmt.Errorf("%w: key %x has %d bytes", ErrValueTooLarge, ups[i].Key[:], len(ups[i].Value))
		}
	}
	sorted := make([]Update, len(ups))
	copy(sorted, ups)
	slices.SortStableFunc(sorted, func(a, b Update) int { return bytes.Compare(a.Key[:], b.Key[:]) })
	// Keep the last of each run of equal keys.
	out := sorted[:0]
	for i := range sorted {
		if i+1 < len(sorted) && sorted[i+1].Key == sorted[i].Key {
			continue
		}
		out = append(out, sorted[i])
	}
	u := updater{t: t, w: w}
	r, err := u.updatePar(root, 0, out, fan)
	u.flushMade() // even on error: they are valid nodes already in w
	if err != nil {
		return root, err
	}
	return r.h, nil
}

// updatePar is update with the top of the tree spread over up to fan
// goroutines: hashing and store reads dominate and parallelise well. The
// result does not depend on scheduling; only the order of writes to w does.
func (u *updater) updatePar(h Hash, depth int, ups []Update, fan int) (result, error) {
	if fan < 2 || len(ups) < parallelMin || depth >= KeyBits {
		return u.update(h, depth, ups)
	}
	var left, right Hash // an empty subtree splits into two empty halves
	if h != emptyHash {
		var n node
		if err := u.t.loadNode(&h, depth, &n); err != nil {
			return result{}, err
		}
		if n.leaf {
			return u.update(h, depth, ups)
		}
		left, right = n.left, n.right
	}
	i := split(ups, depth)
	worker := &updater{t: u.t}
	var (
		l    result
		lerr error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		l, lerr = worker.updatePar(left, depth+1, ups[:i], fan/2)
		worker.flushMade()
	}()
	r, rerr := u.updatePar(right, depth+1, ups[i:], fan-fan/2)
	<-done
	u.adopt(worker)
	if lerr != nil {
		return result{}, lerr
	}
	if rerr != nil {
		return result{}, rerr
	}
	if h != emptyHash && l.h == left && r.h == right {
		return result{h: h, k: kindInternal}, nil
	}
	return u.combine(l, r, depth)
}

// adopt takes a finished worker's nodes: writes them, or holds them for
// this updater's own parent.
func (u *updater) adopt(worker *updater) {
	if u.w == nil {
		u.held = append(u.held, worker.held...)
		return
	}
	for _, c := range worker.held {
		for i := range c {
			u.w.PutNode(c[i].h, c[i].enc)
		}
	}
}

// flushMade hands the current chunk of new nodes to t.recent (and, in a
// worker, keeps it for the parent to write).
func (u *updater) flushMade() {
	if len(u.made) == 0 {
		return
	}
	u.t.recent.add(u.made)
	if u.w == nil {
		u.held = append(u.held, u.made)
	}
	u.made = nil
}

// split returns the index of the first update whose key has bit depth set;
// ups is sorted and shares its first depth bits.
func split(ups []Update, depth int) int {
	lo, hi := 0, len(ups)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if bit(&ups[m].Key, depth) == 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// update applies ups (sorted, distinct, all under this subtree) to the
// subtree h at depth.
func (u *updater) update(h Hash, depth int, ups []Update) (result, error) {
	if len(ups) == 0 {
		if h == emptyHash {
			return result{k: kindEmpty}, nil
		}
		return result{h: h, k: kindUnknown}, nil
	}
	if h == emptyHash {
		return u.build(depth, ups, nil)
	}
	var n node
	if err := u.t.loadNode(&h, depth, &n); err != nil {
		return result{}, err
	}
	if n.leaf {
		if !samePrefix(&n.key, &ups[0].Key, depth) {
			return result{}, errOffPath(n.key, depth)
		}
		ex := leafRef{key: n.key, value: n.value, h: h}
		return u.build(depth, ups, &ex)
	}
	i := split(ups, depth)
	l, err := u.update(n.left, depth+1, ups[:i])
	if err != nil {
		return result{}, err
	}
	r, err := u.update(n.right, depth+1, ups[i:])
	if err != nil {
		return result{}, err
	}
	if l.h == n.left && r.h == n.right {
		return result{h: h, k: kindInternal}, nil
	}
	return u.combine(l, r, depth)
}

// build makes the subtree at depth that holds ex (an existing leaf, if any)
// with ups applied, where nothing else is stored below.
func (u *updater) build(depth int, ups []Update, ex *leafRef) (result, error) {
	if len(ups) == 0 {
		if ex != nil {
			return result{h: ex.h, k: kindLeaf}, nil
		}
		return result{k: kindEmpty}, nil
	}
	if len(ups) == 1 && (ex == nil || ex.key == ups[0].Key) {
		up := &ups[0]
		if up.Value == nil {
			return result{k: kindEmpty}, nil
		}
		if ex != nil && bytes.Equal(ex.value, up.Value) {
			return result{h: ex.h, k: kindLeaf}, nil
		}
		return u.leaf(up, depth), nil
	}
	if depth >= KeyBits {
		// Distinct keys always part before depth KeyBits.
		return result{}, fmt.Errorf("%w: keys collide at depth %d", ErrCorrupt, depth)
	}
	i := split(ups, depth)
	var lex, rex *leafRef
	if ex != nil {
		if bit(&ex.key, depth) == 0 {
			lex = ex
		} else {
			rex = ex
		}
	}
	l, err := u.build(depth+1, ups[:i], lex)
	if err != nil {
		return result{}, err
	}
	r, err := u.build(depth+1, ups[i:], rex)
	if err != nil {
		return result{}, err
	}
	return u.combine(l, r, depth)
}

// combine joins two child results into the subtree at depth, collapsing a
// lone leaf upwards.
func (u *updater) combine(l, r result, depth int) (result, error) {
	if l.h == emptyHash && r.h == emptyHash {
		return result{k: kindEmpty}, nil
	}
	if l.h == emptyHash || r.h == emptyHash {
		only := l
		if only.h == emptyHash {
			only = r
		}
		if only.k == kindUnknown {
			var n node
			if err := u.t.loadNode(&only.h, depth+1, &n); err != nil {
				return result{}, err
			}
			only.k = kindInternal
			if n.leaf {
				only.k = kindLeaf
			}
		}
		if only.k == kindLeaf {
			return only, nil
		}
	}
	enc := u.alloc(internalLen)
	enc[0] = tagInternal
	copy(enc[1:33], l.h[:])
	copy(enc[33:], r.h[:])
	return u.put(enc, kindInternal, depth), nil
}

func (u *updater) leaf(up *Update, depth int) result {
	enc := u.alloc(leafHeader + len(up.Value))
	enc[0] = tagLeaf
	copy(enc[1:leafHeader], up.Key[:])
	copy(enc[leafHeader:], up.Value)
	return u.put(enc, kindLeaf, depth)
}

func (u *updater) put(enc []byte, k kind, depth int) result {
	h := sha256.Sum256(enc)
	if u.w != nil {
		u.w.PutNode(h, enc)
	}
	if depth <= u.t.cacheDepth {
		u.t.cache.add(&h, enc)
	}
	if u.made == nil {
		u.made = make([]newNode, 0, madeChunk)
	}
	u.made = append(u.made, newNode{h, enc})
	if len(u.made) == madeChunk {
		u.flushMade()
	}
	return result{h: h, k: k}
}

// alloc returns n fresh bytes with capacity n, so no encoding can grow into
// its neighbour.
func (u *updater) alloc(n int) []byte {
	if len(u.chunk) < n {
		u.chunk = make([]byte, arenaChunk)
	}
	b := u.chunk[:n:n]
	u.chunk = u.chunk[n:]
	return b
}
