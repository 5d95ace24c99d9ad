package blockfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"ccoin/ccoin/kv"
)

const (
	// refTag starts every reference stored in place of a value. A block
	// encoding starts with 0x94 (an array of four), so the two never mix.
	refTag = 0x01
	refLen = 1 + 4 + 8 + 4 + 4 // tag, segment, offset, length, CRC-32C
	// DefaultSegment is the size past which a new segment file starts.
	DefaultSegment = 1 << 30
	suffix         = ".blk"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	_ kv.Store           = (*Store)(nil)
	_ kv.Bulker          = (*Store)(nil)
	_ kv.ReverseIteratee = (*Store)(nil)
	_ kv.Compacter       = (*Store)(nil)
)

// Store is a kv.Store whose selected values live in segment files.
type Store struct {
	inner   kv.Store
	dir     string
	isBody  func(key []byte) bool
	segSize int64

	mu   sync.Mutex // guards appends: seg, f, size
	seg  uint32
	f    *os.File
	size int64

	rmu     sync.Mutex // guards readers
	readers map[uint32]*os.File
}

// Wrap stores the values of the keys isBody selects in segment files under
// dir (created if needed), the rest in inner. Closing the Store closes
// inner.
func Wrap(inner kv.Store, dir string, isBody func(key []byte) bool) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("blockfile: %w", err)
	}
	s := &Store{inner: inner, dir: dir, isBody: isBody, segSize: DefaultSegment, readers: map[uint32]*os.File{}}
	segs, err := s.segments()
	if err != nil {
		return nil, err
	}
	s.seg = 1
	if len(segs) > 0 {
		s.seg = segs[len(segs)-1]
	}
	if err := s.openSegment(); err != nil {
		return nil, err
	}
	return s, nil
}

// segments lists the segment numbers in dir, ascending.
func (s *Store) segments() ([]uint32, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("blockfile: %w", err)
	}
	var out []uint32
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), suffix)
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(name, 10, 32); err == nil && n > 0 {
			out = append(out, uint32(n))
		}
	}
	slices.Sort(out)
	return out, nil
}

func (s *Store) path(seg uint32) string {
	return filepath.Join(s.dir, fmt.Sprintf("%06d%s", seg, suffix))
}

// openSegment opens s.seg for appending after whatever it holds (bytes a
// crash left unreferenced included).
func (s *Store) openSegment() error {
	f, err := os.OpenFile(s.path(s.seg), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("blockfile: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("blockfile: %w", err)
	}
	s.f, s.size = f, st.Size()
	return nil
}

// appendValues writes vals to the current segment, fsyncs, and returns a
// reference for each. The values go to the file as they are (no joined
// copy of a batch's blocks); s.size follows every byte that reached the
// file, even when a write or the sync fails, so later references never
// point at the wrong offset.
func (s *Store) appendValues(vals [][]byte) ([][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for _, v := range vals {
		total += len(v)
	}
	if s.size > 0 && s.size+int64(total) > s.segSize {
		if err := s.f.Close(); err != nil {
			return nil, fmt.Errorf("blockfile: %w", err)
		}
		s.seg++
		if err := s.openSegment(); err != nil {
			return nil, err
		}
	}
	refs := make([][]byte, len(vals))
	for i, v := range vals {
		r := make([]byte, refLen)
		r[0] = refTag
		binary.BigEndian.PutUint32(r[1:], s.seg)
		binary.BigEndian.PutUint64(r[5:], uint64(s.size))
		binary.BigEndian.PutUint32(r[13:], uint32(len(v)))
		binary.BigEndian.PutUint32(r[17:], crc32.Checksum(v, castagnoli))
		refs[i] = r
		n, err := s.f.Write(v)
		s.size += int64(n)
		if err != nil {
			return nil, fmt.Errorf("blockfile: append: %w", err)
		}
	}
	if err := s.f.Sync(); err != nil {
		return nil, fmt.Errorf("blockfile: sync: %w", err)
	}
	return refs, nil
}

// resolve returns the value v stands for: v itself unless it is a
// reference, then the bytes it names.
func (s *Store) resolve(v []byte) ([]byte, error) {
	if len(v) != refLen || v[0] != refTag {
		return v, nil
	}
	seg := binary.BigEndian.Uint32(v[1:])
	off := int64(binary.BigEndian.Uint64(v[5:]))
	n := binary.BigEndian.Uint32(v[13:])
	sum := binary.BigEndian.Uint32(v[17:])
	f, err := s.reader(seg)
	if err != nil {
		return nil, err
	}
	out := make([]byte, n)
	if _, err := f.ReadAt(out, off); err != nil {
		return nil, fmt.Errorf("%w: blockfile: segment %d at %d (+%d): %v", kv.ErrCorrupt, seg, off, n, err)
	}
	if crc32.Checksum(out, castagnoli) != sum {
		return nil, fmt.Errorf("%w: blockfile: checksum mismatch in segment %d at %d", kv.ErrCorrupt, seg, off)
	}
	return out, nil
}

func (s *Store) reader(seg uint32) (*os.File, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if f, ok := s.readers[seg]; ok {
		return f, nil
	}
	f, err := os.Open(s.path(seg))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: blockfile: segment %d is missing", kv.ErrCorrupt, seg)
	}
	if err != nil {
		return nil, fmt.Errorf("blockfile: %w", err)
	}
	s.readers[seg] = f
	return f, nil
}

// Get implements kv.Reader.
func (s *Store) Get(key []byte) ([]byte, error) {
	v, err := s.inner.Get(key)
	if err != nil || !s.isBody(key) {
		return v, err
	}
	return s.resolve(v)
}

// Has implements kv.Reader.
func (s *Store) Has(key []byte) (bool, error) { return s.inner.Has(key) }

// Put implements kv.Writer; it writes inline (unsynced writes cannot order
// a file append before them).
func (s *Store) Put(key, value []byte) error { return s.inner.Put(key, value) }

// Delete implements kv.Writer. The bytes a deleted reference named stay in
// their segment.
func (s *Store) Delete(key []byte) error { return s.inner.Delete(key) }

// NewBatch implements kv.Store.
func (s *Store) NewBatch() kv.Batch { return &batch{isBody: s.isBody} }

// Write implements kv.Store: the batch's selected values are appended and
// fsynced first, then the batch is written with references in their place.
func (s *Store) Write(b kv.Batch, sync bool) error {
	bb, ok := b.(*batch)
	if !ok {
		return s.inner.Write(b, sync)
	}
	var refs [][]byte
	if len(bb.bodies) > 0 {
		var err error
		if refs, err = s.appendValues(bb.bodies); err != nil {
			return err
		}
	}
	return s.inner.Write(bb.to(s.inner.NewBatch(), refs), sync)
}

// NewIterator implements kv.Iteratee, resolving references.
func (s *Store) NewIterator(prefix, start []byte) kv.Iterator {
	return &iter{Iterator: s.inner.NewIterator(prefix, start), s: s}
}

// NewReverseIterator implements kv.ReverseIteratee, resolving references.
func (s *Store) NewReverseIterator(prefix, limit []byte) kv.Iterator {
	return &iter{Iterator: kv.ReverseIterator(s.inner, prefix, limit), s: s}
}

// NewBulk implements kv.Bulker; a bulk write keeps its values inline
// (genesis and snapshots write accounts, not blocks).
func (s *Store) NewBulk() (kv.Bulk, error) { return kv.NewBulk(s.inner) }

// Compact implements kv.Compacter when the inner store does.
func (s *Store) Compact(start, limit []byte) error {
	if c, ok := s.inner.(kv.Compacter); ok {
		return c.Compact(start, limit)
	}
	return nil
}

// Close closes the segment files and the inner store.
func (s *Store) Close() error {
	s.mu.Lock()
	err := s.f.Close()
	s.mu.Unlock()
	s.rmu.Lock()
	for _, f := range s.readers {
		f.Close()
	}
	clear(s.readers)
	s.rmu.Unlock()
	return errors.Join(err, s.inner.Close())
}

// batch keeps its records until Write, which appends the selected values
// first and writes the rest, with references, to the inner store in the
// same order.
type batch struct {
	isBody func([]byte) bool
	recs   []rec
	bodies [][]byte // the selected values, in order
	size   int
}

type rec struct {
	key, value []byte
	del        bool
	body       int // index in bodies, or -1
}

func (b *batch) Put(key, value []byte) {
	r := rec{key: append([]byte(nil), key...), value: append([]byte(nil), value...), body: -1}
	if b.isBody(key) {
		r.body = len(b.bodies)
		b.bodies = append(b.bodies, r.value)
	}
	b.size += len(key) + len(value)
	b.recs = append(b.recs, r)
}

func (b *batch) Delete(key []byte) {
	b.recs = append(b.recs, rec{key: append([]byte(nil), key...), del: true, body: -1})
	b.size += len(key)
}

func (b *batch) Len() int       { return len(b.recs) }
func (b *batch) ValueSize() int { return b.size }

func (b *batch) Reset() {
	clear(b.recs)
	clear(b.bodies)
	b.recs, b.bodies, b.size = b.recs[:0], b.bodies[:0], 0
}

// Replay applies the records in order, values inline.
func (b *batch) Replay(w kv.Writer) error {
	for _, r := range b.recs {
		var err error
		if r.del {
			err = w.Delete(r.key)
		} else {
			err = w.Put(r.key, r.value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// to builds the inner batch, with refs in place of the selected values
// (none: inline).
func (b *batch) to(out kv.Batch, refs [][]byte) kv.Batch {
	for _, r := range b.recs {
		switch {
		case r.del:
			out.Delete(r.key)
		case r.body >= 0 && refs != nil:
			out.Put(r.key, refs[r.body])
		default:
			out.Put(r.key, r.value)
		}
	}
	return out
}

type iter struct {
	kv.Iterator
	s   *Store
	val []byte
	err error
}

func (it *iter) Next() bool {
	if !it.Iterator.Next() {
		return false
	}
	it.val = it.Iterator.Value()
	if it.s.isBody(it.Iterator.Key()) {
		if it.val, it.err = it.s.resolve(it.val); it.err != nil {
			return false
		}
	}
	return true
}

func (it *iter) Value() []byte { return it.val }

func (it *iter) Error() error {
	if it.err != nil {
		return it.err
	}
	return it.Iterator.Error()
}
