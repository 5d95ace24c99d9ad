package kv

import "errors"

// ErrNotFound is returned by Get for an absent key. Implementations return
// it unwrapped so that a hot-path comparison stays cheap; callers still
// test it with errors.Is.
var ErrNotFound = errors.New("kv: not found")

// ErrCorrupt marks an error caused by damaged data found by the store
// (a checksum mismatch, a missing table): the database must be restored or
// rebuilt, not retried.
var ErrCorrupt = errors.New("kv: corrupt database")

// ErrLocked marks a failure to open a database that another process holds.
var ErrLocked = errors.New("kv: database is locked by another process")

// Reader reads single keys.
type Reader interface {
	// Has reports whether key is present.
	Has(key []byte) (bool, error)
	// Get returns the value of key, or ErrNotFound. The caller owns the
	// returned slice.
	Get(key []byte) ([]byte, error)
}

// Writer changes single keys, unsynced: a crash may lose the write. Writes
// that must survive a crash go through Store.Write with sync set.
type Writer interface {
	Put(key, value []byte) error
	Delete(key []byte) error
}

// Batch collects writes that Store.Write applies atomically. Put and
// Delete copy their arguments, so callers may reuse their buffers; they
// return no error because nothing is written until Store.Write, which
// reports any failure.
type Batch interface {
	Put(key, value []byte)
	Delete(key []byte)
	// Len is the number of records (puts and deletes) in the batch.
	Len() int
	// ValueSize is the number of key and value bytes in the batch, to
	// decide when to flush a growing one.
	ValueSize() int
	// Reset empties the batch for reuse.
	Reset()
	// Replay applies the batch's records in order to w.
	Replay(w Writer) error
}

// Iterator walks keys in ascending byte order. Key and Value are valid only
// until the next call to Next; copy them to keep them. Release must be
// called once done; Error reports what stopped the walk early.
type Iterator interface {
	Next() bool
	Key() []byte
	Value() []byte
	Error() error
	Release()
}

// Iteratee iterates over a key range.
type Iteratee interface {
	// NewIterator walks the keys that start with prefix, from the first
	// one at or after prefix‖start (start nil: from the first).
	NewIterator(prefix, start []byte) Iterator
}

// Store is a whole database.
type Store interface {
	Reader
	Writer
	Iteratee
	// NewBatch returns an empty batch for this store.
	NewBatch() Batch
	// Write applies batch atomically. With sync the write is on stable
	// storage before Write returns (fsync), so it survives a crash.
	Write(batch Batch, sync bool) error
	Close() error
}

// Bulk is one very large atomic write (a genesis or a snapshot with
// millions of accounts) that would be slow as a Batch. Put and Delete
// remember the first error and Commit reports it.
type Bulk interface {
	Put(key, value []byte)
	Delete(key []byte)
	// Commit makes every write durable at once (synced), or none on error.
	Commit() error
	// Discard drops the writes; it is a no-op after Commit.
	Discard()
}

// Bulker is a store that can make a Bulk. Stores that cannot are written
// through NewBulk's fallback, one synced batch.
type Bulker interface {
	NewBulk() (Bulk, error)
}

// ReverseIteratee walks a key range backwards, for "newest first" reads
// that stop early.
type ReverseIteratee interface {
	// NewReverseIterator walks the keys that start with prefix and sort
	// before prefix‖limit (limit nil: all of them), in descending order.
	NewReverseIterator(prefix, limit []byte) Iterator
}

// Compacter is a store that can compact a key range (limit nil: to the
// end), so benchmarks and tools measure a settled database.
type Compacter interface {
	Compact(start, limit []byte) error
}
