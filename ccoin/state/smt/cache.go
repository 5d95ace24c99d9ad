package smt

import "sync"

const cacheShards = 16

// nodeCache is a sharded LRU of node encodings by hash. Sharding keeps
// concurrent readers from queueing on one lock.
type nodeCache struct {
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu         sync.Mutex
	idx        map[Hash]int32
	ents       []cacheEntry
	head, tail int32 // head is most recently used; -1 when empty
	max        int
}

type cacheEntry struct {
	h          Hash
	enc        []byte
	prev, next int32
}

func newNodeCache(capacity int) *nodeCache {
	per := capacity / cacheShards
	if per < 1 {
		per = 1
	}
	c := &nodeCache{}
	for i := range c.shards {
		s := &c.shards[i]
		s.idx = make(map[Hash]int32)
		s.head, s.tail = -1, -1
		s.max = per
	}
	return c
}

func (c *nodeCache) shard(h *Hash) *cacheShard {
	return &c.shards[h[31]%cacheShards]
}

func (c *nodeCache) get(h *Hash) ([]byte, bool) {
	s := c.shard(h)
	s.mu.Lock()
	i, ok := s.idx[*h]
	var enc []byte
	if ok {
		s.toFront(i)
		enc = s.ents[i].enc
	}
	s.mu.Unlock()
	return enc, ok
}

func (c *nodeCache) add(h *Hash, enc []byte) {
	s := c.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.idx[*h]; ok {
		s.toFront(i)
		return
	}
	var i int32
	if len(s.ents) < s.max {
		i = int32(len(s.ents))
		s.ents = append(s.ents, cacheEntry{h: *h, enc: enc, prev: -1, next: -1})
	} else {
		i = s.tail
		s.unlink(i)
		delete(s.idx, s.ents[i].h)
		s.ents[i] = cacheEntry{h: *h, enc: enc, prev: -1, next: -1}
	}
	s.idx[*h] = i
	s.pushFront(i)
}

func (s *cacheShard) unlink(i int32) {
	e := &s.ents[i]
	if e.prev >= 0 {
		s.ents[e.prev].next = e.next
	} else {
		s.head = e.next
	}
	if e.next >= 0 {
		s.ents[e.next].prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (s *cacheShard) pushFront(i int32) {
	e := &s.ents[i]
	e.prev = -1
	e.next = s.head
	if s.head >= 0 {
		s.ents[s.head].prev = i
	}
	s.head = i
	if s.tail < 0 {
		s.tail = i
	}
}

func (s *cacheShard) toFront(i int32) {
	if s.head == i {
		return
	}
	s.unlink(i)
	s.pushFront(i)
}
