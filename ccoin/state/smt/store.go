package smt

import (
	"errors"
	"fmt"
	"sync"

	"ccoin/ccoin/kv"
)

// NodeReader reads a node encoding by hash. It returns ErrNotFound (wrapped
// is fine) when the node is absent. The returned slice must not be modified
// by the reader afterwards; the tree never modifies it either.
type NodeReader interface {
	GetNode(h Hash) ([]byte, error)
}

// NodeWriter receives new nodes. enc is immutable and may be retained.
type NodeWriter interface {
	PutNode(h Hash, enc []byte)
}

// MemStore is an in-memory node store for tests and tools. It is safe for
// concurrent use and retains the slices it is given.
type MemStore struct {
	mu    sync.RWMutex
	nodes map[Hash][]byte
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{nodes: make(map[Hash][]byte)} }

// GetNode implements NodeReader.
func (m *MemStore) GetNode(h Hash) ([]byte, error) {
	m.mu.RLock()
	enc, ok := m.nodes[h]
	m.mu.RUnlock()
	if !ok {
		return nil, notFound(h)
	}
	return enc, nil
}

func notFound(h Hash) error { return fmt.Errorf("%w: %x", ErrNotFound, h[:]) }

// PutNode implements NodeWriter.
func (m *MemStore) PutNode(h Hash, enc []byte) {
	m.mu.Lock()
	if m.nodes == nil {
		m.nodes = make(map[Hash][]byte)
	}
	m.nodes[h] = enc
	m.mu.Unlock()
}

// Len returns the number of stored nodes.
func (m *MemStore) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.nodes)
}

// Range calls fn for every stored node, in no particular order, until fn
// returns false.
func (m *MemStore) Range(fn func(h Hash, enc []byte) bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for h, enc := range m.nodes {
		if !fn(h, enc) {
			return
		}
	}
}

// KVStore reads nodes from a key-value store under key Prefix ‖ hash.
type KVStore struct {
	DB     kv.Reader
	Prefix []byte
}

// GetNode implements NodeReader.
func (s KVStore) GetNode(h Hash) ([]byte, error) {
	var buf [64]byte
	enc, err := s.DB.Get(nodeKey(buf[:0], s.Prefix, &h))
	if err != nil {
		if errors.Is(err, kv.ErrNotFound) {
			return nil, notFound(h)
		}
		return nil, readErr(h, err)
	}
	return enc, nil
}

// BatchWriter puts nodes into a kv.Batch (or anything with its Put, such
// as a kv.Bulk) under key Prefix ‖ hash, so the caller
// commits them atomically with the block that made them.
type BatchWriter struct {
	Batch  interface{ Put(key, value []byte) }
	Prefix []byte
}

// PutNode implements NodeWriter.
func (w BatchWriter) PutNode(h Hash, enc []byte) {
	var buf [64]byte
	w.Batch.Put(nodeKey(buf[:0], w.Prefix, &h), enc) // Put copies key and value
}

func readErr(h Hash, err error) error { return fmt.Errorf("smt: read node %x: %w", h[:], err) }

func nodeKey(dst, prefix []byte, h *Hash) []byte {
	dst = append(dst, prefix...)
	return append(dst, h[:]...)
}
