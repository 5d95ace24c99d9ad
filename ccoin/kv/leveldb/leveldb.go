package leveldb

import (
	"fmt"

	gl "github.com/syndtr/goleveldb/leveldb"
	glerrors "github.com/syndtr/goleveldb/leveldb/errors"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/iterator"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"
	"github.com/syndtr/goleveldb/leveldb/util"

	"ccoin/ccoin/kv"
)

// DB is a goleveldb database behind kv.Store.
type DB struct{ db *gl.DB }

var (
	_ kv.Store           = (*DB)(nil)
	_ kv.Bulker          = (*DB)(nil)
	_ kv.ReverseIteratee = (*DB)(nil)
	_ kv.Compacter       = (*DB)(nil)
)

// strict verifies checksums on every read, so a damaged file is reported
// instead of served.
const strict = opt.DefaultStrict | opt.StrictReader

// Open opens (or creates) the database in directory path with the options
// a node uses. A damaged database fails with an error wrapping
// kv.ErrCorrupt, one held by another process with kv.ErrLocked.
func Open(path string) (*DB, error) {
	db, err := gl.OpenFile(path, &opt.Options{
		Strict:             strict,
		BlockCacheCapacity: 64 << 20,
		WriteBuffer:        32 << 20,
		// Most bytes are blocks, signatures and hashes: snappy cannot
		// shrink them and cost ~5% of a loaded node's CPU.
		Compression: opt.NoCompression,
		// Fewer, larger tables: each compaction of 8 MiB blocks touched
		// several 2 MiB tables.
		CompactionTableSize: 8 << 20,
		CompactionTotalSize: 40 << 20,
		// State tree nodes are keyed by random hashes: without a filter a
		// miss costs a disk read per table.
		Filter: filter.NewBloomFilter(10),
	})
	if err != nil {
		return nil, openErr(err)
	}
	return &DB{db: db}, nil
}

// OpenStorage opens the database kept in s with strict reads and
// goleveldb's default sizes, as the simulator and tests do.
func OpenStorage(s storage.Storage) (*DB, error) {
	db, err := gl.Open(s, &opt.Options{Strict: strict})
	if err != nil {
		return nil, openErr(err)
	}
	return &DB{db: db}, nil
}

func openErr(err error) error {
	switch {
	case glerrors.IsCorrupted(err):
		return fmt.Errorf("%w: %w", kv.ErrCorrupt, err)
	case isLocked(err):
		return fmt.Errorf("%w: %w", kv.ErrLocked, err)
	}
	return err
}

// readErr maps goleveldb's errors to kv's kinds. ErrNotFound is returned
// as kv.ErrNotFound itself: it is the common case on hot paths.
func readErr(err error) error {
	switch {
	case err == gl.ErrNotFound:
		return kv.ErrNotFound
	case glerrors.IsCorrupted(err):
		return fmt.Errorf("%w: %w", kv.ErrCorrupt, err)
	}
	return err
}

// Has implements kv.Reader.
func (d *DB) Has(key []byte) (bool, error) {
	ok, err := d.db.Has(key, nil)
	if err != nil {
		return false, readErr(err)
	}
	return ok, nil
}

// Get implements kv.Reader.
func (d *DB) Get(key []byte) ([]byte, error) {
	v, err := d.db.Get(key, nil)
	if err != nil {
		return nil, readErr(err)
	}
	return v, nil
}

// Put implements kv.Writer (unsynced).
func (d *DB) Put(key, value []byte) error { return d.db.Put(key, value, nil) }

// Delete implements kv.Writer (unsynced).
func (d *DB) Delete(key []byte) error { return d.db.Delete(key, nil) }

// NewBatch implements kv.Store.
func (d *DB) NewBatch() kv.Batch { return new(Batch) }

// synced is shared: goleveldb only reads it.
var synced = &opt.WriteOptions{Sync: true}

// Write implements kv.Store. A batch from another implementation is
// replayed into a goleveldb batch first.
func (d *DB) Write(b kv.Batch, sync bool) error {
	lb, ok := b.(*Batch)
	if !ok {
		lb = new(Batch)
		if err := b.Replay(batchWriter{lb}); err != nil {
			return err
		}
	}
	var wo *opt.WriteOptions
	if sync {
		wo = synced
	}
	return d.db.Write(&lb.b, wo)
}

// NewIterator implements kv.Iteratee.
func (d *DB) NewIterator(prefix, start []byte) kv.Iterator {
	r := util.BytesPrefix(prefix)
	if len(start) > 0 {
		r.Start = append(r.Start, start...)
	}
	return &iter{it: d.db.NewIterator(r, nil)}
}

// NewReverseIterator implements kv.ReverseIteratee.
func (d *DB) NewReverseIterator(prefix, limit []byte) kv.Iterator {
	r := util.BytesPrefix(prefix)
	if limit != nil {
		r.Limit = append(append([]byte(nil), prefix...), limit...)
	}
	return &iter{it: d.db.NewIterator(r, nil), reverse: true}
}

// Compact implements kv.Compacter.
func (d *DB) Compact(start, limit []byte) error {
	return d.db.CompactRange(util.Range{Start: start, Limit: limit})
}

// Close implements kv.Store.
func (d *DB) Close() error { return d.db.Close() }

// NewBulk implements kv.Bulker with a goleveldb transaction. goleveldb's
// Batch grows its buffer by a fixed amount once it holds 3,000 records, so
// a million-record batch spends minutes copying itself; a transaction
// writes tables directly and commits them with one synced manifest
// record, so a crash leaves all of it or none. While it is open the
// database takes reads but no other writes.
func (d *DB) NewBulk() (kv.Bulk, error) {
	tr, err := d.db.OpenTransaction()
	if err != nil {
		return nil, fmt.Errorf("open write transaction: %w", err)
	}
	return &bulk{tr: tr}, nil
}

type bulk struct {
	tr  *gl.Transaction
	err error // the first failed write; Commit reports it
}

func (w *bulk) Put(key, value []byte) {
	if w.err == nil {
		w.err = w.tr.Put(key, value, nil)
	}
}

func (w *bulk) Delete(key []byte) {
	if w.err == nil {
		w.err = w.tr.Delete(key, nil)
	}
}

func (w *bulk) Commit() error {
	if w.err != nil {
		w.tr.Discard()
		return w.err
	}
	if err := w.tr.Commit(); err != nil {
		w.tr.Discard()
		return err
	}
	return nil
}

func (w *bulk) Discard() { w.tr.Discard() }

// iter adapts goleveldb's iterator; reverse walks from Last with Prev.
type iter struct {
	it      iterator.Iterator
	reverse bool
	started bool
}

func (i *iter) Next() bool {
	if !i.reverse {
		return i.it.Next()
	}
	if !i.started {
		i.started = true
		return i.it.Last()
	}
	return i.it.Prev()
}

func (i *iter) Key() []byte   { return i.it.Key() }
func (i *iter) Value() []byte { return i.it.Value() }
func (i *iter) Release()      { i.it.Release() }

func (i *iter) Error() error {
	if err := i.it.Error(); err != nil {
		return readErr(err)
	}
	return nil
}

// Batch is goleveldb's batch behind kv.Batch.
type Batch struct{ b gl.Batch }

// Put implements kv.Batch; goleveldb copies key and value.
func (b *Batch) Put(key, value []byte) { b.b.Put(key, value) }

// Delete implements kv.Batch.
func (b *Batch) Delete(key []byte) { b.b.Delete(key) }

// Len implements kv.Batch.
func (b *Batch) Len() int { return b.b.Len() }

// ValueSize implements kv.Batch: the size of the batch's encoding, which
// counts every key and value plus a few bytes per record.
func (b *Batch) ValueSize() int { return len(b.b.Dump()) }

// Reset implements kv.Batch.
func (b *Batch) Reset() { b.b.Reset() }

// Replay implements kv.Batch.
func (b *Batch) Replay(w kv.Writer) error {
	r := &replayer{w: w}
	if err := b.b.Replay(r); err != nil {
		return err
	}
	return r.err
}

// replayer adapts a kv.Writer to goleveldb's BatchReplay, keeping the
// first error.
type replayer struct {
	w   kv.Writer
	err error
}

func (r *replayer) Put(key, value []byte) {
	if r.err == nil {
		r.err = r.w.Put(key, value)
	}
}

func (r *replayer) Delete(key []byte) {
	if r.err == nil {
		r.err = r.w.Delete(key)
	}
}

// batchWriter lets a foreign batch replay into a Batch.
type batchWriter struct{ b *Batch }

func (w batchWriter) Put(key, value []byte) error { w.b.Put(key, value); return nil }
func (w batchWriter) Delete(key []byte) error     { w.b.Delete(key); return nil }
