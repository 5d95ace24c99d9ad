package smt

import (
	"encoding/binary"
	"sync"
)

const cacheWays = 8

// nodeCache is a set-associative cache of node encodings: a hash picks a set
// of cacheWays slots, evicting the set's least recently used. Node hashes
// are uniform, so sets fill evenly; with no map there are no tombstones or
// rehashing, and a lookup touches one small set under its own lock, which
// keeps concurrent readers apart.
type nodeCache struct {
	sets []cacheSet
	mask uint64
}

// cacheSet keeps the lock, use clocks and short tags together so a probe
// usually touches one or two cache lines before the full hash compare.
type cacheSet struct {
	mu    sync.Mutex
	clock uint32
	used  [cacheWays]uint32 // clock of last use; 0 = free
	tag   [cacheWays]uint32 // bytes 8..11 of the hash
	h     [cacheWays]Hash
	enc   [cacheWays][]byte
}

func tagOf(h *Hash) uint32 { return binary.LittleEndian.Uint32(h[8:12]) }

func newNodeCache(capacity int) *nodeCache {
	n := 1
	for n*cacheWays < capacity {
		n <<= 1
	}
	return &nodeCache{sets: make([]cacheSet, n), mask: uint64(n - 1)}
}

func (c *nodeCache) set(h *Hash) *cacheSet {
	return &c.sets[binary.LittleEndian.Uint64(h[:8])&c.mask]
}

func (s *cacheSet) tick() uint32 {
	s.clock++
	if s.clock == 0 { // wrapped: restart the order, keeping every entry
		for i := range s.used {
			if s.used[i] != 0 {
				s.used[i] = 1
			}
		}
		s.clock = 2
	}
	return s.clock
}

func (c *nodeCache) get(h *Hash) ([]byte, bool) {
	s := c.set(h)
	tag := tagOf(h)
	s.mu.Lock()
	for i := range s.tag {
		if s.tag[i] == tag && s.used[i] != 0 && s.h[i] == *h {
			s.used[i] = s.tick()
			enc := s.enc[i]
			s.mu.Unlock()
			return enc, true
		}
	}
	s.mu.Unlock()
	return nil, false
}

func (c *nodeCache) add(h *Hash, enc []byte) {
	s := c.set(h)
	tag := tagOf(h)
	s.mu.Lock()
	victim := 0
	for i := range s.tag {
		if s.tag[i] == tag && s.used[i] != 0 && s.h[i] == *h {
			s.used[i] = s.tick()
			s.mu.Unlock()
			return
		}
		if s.used[i] < s.used[victim] {
			victim = i
		}
	}
	s.h[victim] = *h
	s.tag[victim] = tag
	s.enc[victim] = enc
	s.used[victim] = s.tick()
	s.mu.Unlock()
}

// recentNodes keeps the nodes made by Update readable before the caller has
// persisted them, whatever the cache evicts. It holds two generations of at
// most half its capacity each and drops the older one whole when the newer
// fills, so every node stays for at least capacity/2 further new nodes, and
// memory stays bounded without per-node deletes. Nodes are indexed lazily,
// on the first lookup that misses the store: in the usual flow (batch written
// before the next block) that never happens and recording stays cheap.
type recentNodes struct {
	mu       sync.RWMutex
	cur, old recentGen
	half     int
}

type recentGen struct {
	chunks  [][]newNode
	n       int // nodes in chunks
	indexed int // chunks already in idx
	idx     map[Hash][]byte
}

func newRecentNodes(capacity int) *recentNodes {
	half := capacity / 2
	if half < 1 {
		half = 1
	}
	return &recentNodes{half: half}
}

func (r *recentNodes) get(h *Hash) ([]byte, bool) {
	r.mu.RLock()
	stale := r.cur.indexed < len(r.cur.chunks) || r.old.indexed < len(r.old.chunks)
	if !stale {
		enc, ok := r.lookup(h)
		r.mu.RUnlock()
		return enc, ok
	}
	r.mu.RUnlock()
	r.mu.Lock()
	r.cur.index()
	r.old.index()
	enc, ok := r.lookup(h)
	r.mu.Unlock()
	return enc, ok
}

func (r *recentNodes) lookup(h *Hash) ([]byte, bool) {
	if enc, ok := r.cur.idx[*h]; ok {
		return enc, true
	}
	enc, ok := r.old.idx[*h]
	return enc, ok
}

func (g *recentGen) index() {
	if g.idx == nil && g.indexed < len(g.chunks) {
		g.idx = make(map[Hash][]byte, g.n)
	}
	for ; g.indexed < len(g.chunks); g.indexed++ {
		for _, nd := range g.chunks[g.indexed] {
			g.idx[nd.h] = nd.enc
		}
	}
}

// add records a chunk of one Update's new nodes; r keeps the slice.
func (r *recentNodes) add(chunk []newNode) {
	if len(chunk) == 0 {
		return
	}
	r.mu.Lock()
	if r.cur.n >= r.half {
		r.old, r.cur = r.cur, recentGen{}
	}
	r.cur.chunks = append(r.cur.chunks, chunk)
	r.cur.n += len(chunk)
	r.mu.Unlock()
}

type newNode struct {
	h   Hash
	enc []byte
}
