package memorydb

import (
	"bytes"
	"errors"
	"slices"
	"sort"
	"sync"

	"ccoin/ccoin/kv"
)

// ErrClosed is returned by every call after Close.
var ErrClosed = errors.New("memorydb: closed")

// DB is an in-memory kv.Store, safe for concurrent use. Iterators copy the
// range they walk when created, so writes during a walk do not disturb it.
type DB struct {
	mu sync.RWMutex
	m  map[string][]byte // nil once closed
}

var (
	_ kv.Store           = (*DB)(nil)
	_ kv.ReverseIteratee = (*DB)(nil)
)

// New returns an empty store.
func New() *DB { return &DB{m: make(map[string][]byte)} }

// Has implements kv.Reader.
func (db *DB) Has(key []byte) (bool, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.m == nil {
		return false, ErrClosed
	}
	_, ok := db.m[string(key)]
	return ok, nil
}

// Get implements kv.Reader.
func (db *DB) Get(key []byte) ([]byte, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.m == nil {
		return nil, ErrClosed
	}
	v, ok := db.m[string(key)]
	if !ok {
		return nil, kv.ErrNotFound
	}
	return bytes.Clone(v), nil
}

// Put implements kv.Writer.
func (db *DB) Put(key, value []byte) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.m == nil {
		return ErrClosed
	}
	db.m[string(key)] = cloneValue(value)
	return nil
}

// Delete implements kv.Writer.
func (db *DB) Delete(key []byte) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.m == nil {
		return ErrClosed
	}
	delete(db.m, string(key))
	return nil
}

// cloneValue copies v, keeping an empty value non-nil so that Get of a key
// stored with a nil value still reads as present and empty.
func cloneValue(v []byte) []byte { return append([]byte{}, v...) }

// NewBatch implements kv.Store.
func (db *DB) NewBatch() kv.Batch { return new(Batch) }

// Write implements kv.Store; sync is meaningless in memory.
func (db *DB) Write(b kv.Batch, _ bool) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.m == nil {
		return ErrClosed
	}
	if mb, ok := b.(*Batch); ok {
		for _, r := range mb.recs {
			if r.del {
				delete(db.m, r.key)
			} else {
				db.m[r.key] = r.value
			}
		}
		return nil
	}
	return b.Replay(locked{db})
}

// locked writes into db whose lock the caller holds.
type locked struct{ db *DB }

func (w locked) Put(key, value []byte) error { w.db.m[string(key)] = cloneValue(value); return nil }
func (w locked) Delete(key []byte) error     { delete(w.db.m, string(key)); return nil }

// NewIterator implements kv.Iteratee.
func (db *DB) NewIterator(prefix, start []byte) kv.Iterator {
	keys, vals := db.collect(prefix, start, nil)
	return kv.NewSliceIterator(keys, vals)
}

// NewReverseIterator implements kv.ReverseIteratee.
func (db *DB) NewReverseIterator(prefix, limit []byte) kv.Iterator {
	keys, vals := db.collect(prefix, nil, limit)
	slices.Reverse(keys)
	slices.Reverse(vals)
	return kv.NewSliceIterator(keys, vals)
}

// collect copies, in ascending order, the records under prefix from
// prefix‖start to before prefix‖limit.
func (db *DB) collect(prefix, start, limit []byte) (keys, vals [][]byte) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	from := string(prefix) + string(start)
	var to string
	if limit != nil {
		to = string(prefix) + string(limit)
	}
	var ks []string
	for k := range db.m {
		if len(k) < len(prefix) || k[:len(prefix)] != string(prefix) || k < from || (limit != nil && k >= to) {
			continue
		}
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		keys = append(keys, []byte(k))
		vals = append(vals, bytes.Clone(db.m[k]))
	}
	return keys, vals
}

// Close implements kv.Store; later calls fail with ErrClosed.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.m = nil
	return nil
}

// Len returns the number of stored keys.
func (db *DB) Len() int {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return len(db.m)
}

// Batch is memorydb's kv.Batch: a list of copied records.
type Batch struct {
	recs []rec
	size int
}

type rec struct {
	key   string
	value []byte
	del   bool
}

// Put implements kv.Batch.
func (b *Batch) Put(key, value []byte) {
	b.recs = append(b.recs, rec{key: string(key), value: cloneValue(value)})
	b.size += len(key) + len(value)
}

// Delete implements kv.Batch.
func (b *Batch) Delete(key []byte) {
	b.recs = append(b.recs, rec{key: string(key), del: true})
	b.size += len(key)
}

// Len implements kv.Batch.
func (b *Batch) Len() int { return len(b.recs) }

// ValueSize implements kv.Batch.
func (b *Batch) ValueSize() int { return b.size }

// Reset implements kv.Batch.
func (b *Batch) Reset() { b.recs, b.size = b.recs[:0], 0 }

// Replay implements kv.Batch.
func (b *Batch) Replay(w kv.Writer) error {
	for _, r := range b.recs {
		var err error
		if r.del {
			err = w.Delete([]byte(r.key))
		} else {
			err = w.Put([]byte(r.key), r.value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
