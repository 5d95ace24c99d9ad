package blockfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"ccoin/ccoin/kv"
	"ccoin/ccoin/kv/kvtest"
	"ccoin/ccoin/kv/leveldb"
)

func isB(key []byte) bool { return len(key) > 0 && key[0] == 'b' }

func open(t *testing.T, dir string) *Store { return openWith(t, dir, isB) }

func openWith(t *testing.T, dir string, isBody func([]byte) bool) *Store {
	t.Helper()
	db, err := leveldb.Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Wrap(db, filepath.Join(dir, "db", "blocks"), isBody)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The wrapped store keeps the kv contract, whether a key's value lives in
// a segment file or inline.
func TestContract(t *testing.T) {
	for name, pick := range map[string]func([]byte) bool{
		"every batched value in segments": func([]byte) bool { return true },
		"some":                            isB,
	} {
		t.Run(name, func(t *testing.T) {
			kvtest.Run(t, func(t *testing.T) kv.Store { return openWith(t, t.TempDir(), pick) })
		})
	}
}

// Selected values live in the segment file and survive a reopen; the
// store holds only references; values written inline before are still
// read.
func TestValuesInSegments(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	big := bytes.Repeat([]byte{0x94, 7}, 1<<20)
	if err := s.inner.Put([]byte("b-old"), []byte("inline block")); err != nil {
		t.Fatal(err)
	}
	b := s.NewBatch()
	b.Put([]byte("b1"), big)
	b.Put([]byte("a1"), []byte("account"))
	b.Put([]byte("b2"), []byte{0x94, 1})
	b.Delete([]byte("b-none"))
	if err := s.Write(b, true); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.inner.Get([]byte("b1")); len(v) != refLen {
		t.Fatalf("the store holds %d bytes for a block, want a %d-byte reference", len(v), refLen)
	}
	if v, _ := s.inner.Get([]byte("a1")); string(v) != "account" {
		t.Fatalf("an unselected value moved: %q", v)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer s.Close()
	for k, want := range map[string][]byte{"b1": big, "b2": {0x94, 1}, "a1": []byte("account"), "b-old": []byte("inline block")} {
		if v, err := s.Get([]byte(k)); err != nil || !bytes.Equal(v, want) {
			t.Fatalf("%s after reopen: %d bytes, %v", k, len(v), err)
		}
	}
	it := s.NewIterator([]byte("b"), nil)
	n := 0
	for it.Next() {
		if len(it.Value()) == refLen && it.Value()[0] == refTag {
			t.Fatal("iterator served a reference")
		}
		n++
	}
	it.Release()
	if n != 3 || it.Error() != nil {
		t.Fatalf("iterated %d values, %v", n, it.Error())
	}
}

// Damaged or missing segment bytes are reported as corruption, never
// served; bytes a crash appended without a committed reference are skipped
// by later appends.
func TestCorruptionAndTornTail(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	b := s.NewBatch()
	b.Put([]byte("b1"), []byte{0x94, 1, 2, 3})
	if err := s.Write(b, true); err != nil {
		t.Fatal(err)
	}
	// A crash after the append, before the batch: bytes nothing names.
	if _, err := s.appendValues([][]byte{[]byte("orphan")}); err != nil {
		t.Fatal(err)
	}
	b = s.NewBatch()
	b.Put([]byte("b2"), []byte{0x94, 9})
	if err := s.Write(b, true); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get([]byte("b2")); err != nil || !bytes.Equal(v, []byte{0x94, 9}) {
		t.Fatalf("after an orphan tail: %x %v", v, err)
	}
	s.Close()
	seg := filepath.Join(dir, "db", "blocks", "000001.blk")
	raw, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	raw[1] ^= 0xff
	if err := os.WriteFile(seg, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	if _, err := s.Get([]byte("b1")); !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("damaged bytes: %v", err)
	}
	s.Close()
	os.Remove(seg)
	s = open(t, dir)
	defer s.Close()
	if _, err := s.Get([]byte("b2")); !errors.Is(err, kv.ErrCorrupt) {
		t.Fatalf("missing segment: %v", err)
	}
}

// A segment past its size starts the next one.
func TestSegmentRotation(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	s.segSize = 100
	for i := range 5 {
		b := s.NewBatch()
		b.Put([]byte{'b', byte(i)}, bytes.Repeat([]byte{byte(i)}, 60))
		if err := s.Write(b, true); err != nil {
			t.Fatal(err)
		}
	}
	segs, _ := s.segments()
	if len(segs) != 5 {
		t.Fatalf("%d segments for five 60-byte values over 100-byte segments", len(segs))
	}
	for i := range 5 {
		if v, err := s.Get([]byte{'b', byte(i)}); err != nil || !bytes.Equal(v, bytes.Repeat([]byte{byte(i)}, 60)) {
			t.Fatalf("value %d: %v", i, err)
		}
	}
}
