package kv

import "bytes"

// PutSync writes one key synced: on stable storage when it returns. It is
// for records that must survive a crash on their own, such as a vote
// before it is sent.
func PutSync(s Store, key, value []byte) error {
	b := s.NewBatch()
	b.Put(key, value)
	return s.Write(b, true)
}

// NewBulk returns s's own Bulk when it has one, else one that collects a
// batch and writes it synced on Commit.
func NewBulk(s Store) (Bulk, error) {
	if b, ok := s.(Bulker); ok {
		return b.NewBulk()
	}
	return &batchBulk{s: s, b: s.NewBatch()}, nil
}

type batchBulk struct {
	s    Store
	b    Batch
	done bool
}

func (w *batchBulk) Put(key, value []byte) { w.b.Put(key, value) }
func (w *batchBulk) Delete(key []byte)     { w.b.Delete(key) }
func (w *batchBulk) Discard()              { w.b.Reset() }

func (w *batchBulk) Commit() error {
	if w.done {
		return nil
	}
	w.done = true
	err := w.s.Write(w.b, true)
	w.b.Reset()
	return err
}

// ReverseIterator walks the keys of s that start with prefix and sort
// before prefix‖limit, newest (largest) first. It uses s's own reverse
// iterator when it has one; otherwise it reads the range forward into
// memory, which is fine for the small stores that lack one.
func ReverseIterator(s Iteratee, prefix, limit []byte) Iterator {
	if r, ok := s.(ReverseIteratee); ok {
		return r.NewReverseIterator(prefix, limit)
	}
	var end []byte
	if limit != nil {
		end = append(append([]byte(nil), prefix...), limit...)
	}
	it := s.NewIterator(prefix, nil)
	defer it.Release()
	var keys, vals [][]byte
	for it.Next() {
		if end != nil && bytes.Compare(it.Key(), end) >= 0 {
			break
		}
		keys = append(keys, bytes.Clone(it.Key()))
		vals = append(vals, bytes.Clone(it.Value()))
	}
	return &sliceIter{keys: keys, vals: vals, pos: len(keys), step: -1, err: it.Error()}
}

// sliceIter iterates over copied records; step -1 walks them backwards.
type sliceIter struct {
	keys, vals [][]byte
	pos, step  int
	err        error
}

// NewSliceIterator iterates over keys and vals (equal lengths, already in
// the order to walk), for implementations that copy a range up front.
func NewSliceIterator(keys, vals [][]byte) Iterator {
	return &sliceIter{keys: keys, vals: vals, pos: -1, step: 1}
}

func (it *sliceIter) Next() bool {
	if it.err != nil {
		return false
	}
	it.pos += it.step
	return it.pos >= 0 && it.pos < len(it.keys)
}

func (it *sliceIter) valid() bool { return it.pos >= 0 && it.pos < len(it.keys) }

func (it *sliceIter) Key() []byte {
	if !it.valid() {
		return nil
	}
	return it.keys[it.pos]
}

func (it *sliceIter) Value() []byte {
	if !it.valid() {
		return nil
	}
	return it.vals[it.pos]
}

func (it *sliceIter) Error() error { return it.err }
func (it *sliceIter) Release()     { it.keys, it.vals = nil, nil }
