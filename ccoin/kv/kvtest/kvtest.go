package kvtest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"ccoin/ccoin/kv"
)

// Run checks the kv contract on stores from open, one fresh store per case.
func Run(t *testing.T, open func(t *testing.T) kv.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s kv.Store)
	}{
		{"get-put-delete", testGetPutDelete},
		{"empty value", testEmptyValue},
		{"caller owns buffers", testBuffers},
		{"batch", testBatch},
		{"batch replay", testReplay},
		{"iterate prefix and start", testIterate},
		{"reverse iterate", testReverse},
		{"bulk", testBulk},
		{"put sync", testPutSync},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			c.fn(t, s)
		})
	}
}

func mustGet(t *testing.T, s kv.Reader, key, want string) {
	t.Helper()
	v, err := s.Get([]byte(key))
	if err != nil || string(v) != want {
		t.Fatalf("Get(%q) = %q, %v; want %q", key, v, err, want)
	}
}

func mustMiss(t *testing.T, s kv.Reader, key string) {
	t.Helper()
	if v, err := s.Get([]byte(key)); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, v, err)
	}
	if ok, err := s.Has([]byte(key)); ok || err != nil {
		t.Fatalf("Has(%q) = %v, %v; want false", key, ok, err)
	}
}

func testGetPutDelete(t *testing.T, s kv.Store) {
	mustMiss(t, s, "a")
	if err := s.Put([]byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "a", "1")
	if ok, err := s.Has([]byte("a")); !ok || err != nil {
		t.Fatalf("Has = %v, %v", ok, err)
	}
	if err := s.Put([]byte("a"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "a", "2")
	if err := s.Delete([]byte("a")); err != nil {
		t.Fatal(err)
	}
	mustMiss(t, s, "a")
	if err := s.Delete([]byte("absent")); err != nil {
		t.Fatalf("deleting an absent key: %v", err)
	}
}

// The chain stores its block tree as keys with empty values.
func testEmptyValue(t *testing.T, s kv.Store) {
	b := s.NewBatch()
	b.Put([]byte("e"), nil)
	if err := s.Write(b, false); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Has([]byte("e")); !ok || err != nil {
		t.Fatalf("Has = %v, %v", ok, err)
	}
	mustGet(t, s, "e", "")
}

func testBuffers(t *testing.T, s kv.Store) {
	k, v := []byte("key"), []byte("val")
	b := s.NewBatch()
	b.Put(k, v)
	copy(k, "xxx")
	copy(v, "yyy")
	if err := s.Write(b, false); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "key", "val")
	got, _ := s.Get([]byte("key"))
	copy(got, "zzz")
	mustGet(t, s, "key", "val")
}

func testBatch(t *testing.T, s kv.Store) {
	if err := s.Put([]byte("gone"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	b := s.NewBatch()
	b.Put([]byte("k1"), []byte("v1"))
	b.Put([]byte("k2"), []byte("v2"))
	b.Delete([]byte("gone"))
	b.Put([]byte("k1"), []byte("v1b")) // later records win
	if b.Len() != 4 {
		t.Fatalf("Len = %d, want 4", b.Len())
	}
	if b.ValueSize() < len("k1v1k2v2gonek1v1b") {
		t.Fatalf("ValueSize = %d, below the bytes put", b.ValueSize())
	}
	mustMiss(t, s, "k1") // nothing before Write
	if err := s.Write(b, true); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "k1", "v1b")
	mustGet(t, s, "k2", "v2")
	mustMiss(t, s, "gone")
	b.Reset()
	if b.Len() != 0 || b.ValueSize() != 0 {
		t.Fatalf("after Reset: Len %d, ValueSize %d", b.Len(), b.ValueSize())
	}
	b.Put([]byte("k3"), []byte("v3"))
	if err := s.Write(b, false); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "k3", "v3")
}

type recorder struct{ ops []string }

func (r *recorder) Put(k, v []byte) error {
	r.ops = append(r.ops, "put "+string(k)+"="+string(v))
	return nil
}
func (r *recorder) Delete(k []byte) error { r.ops = append(r.ops, "del "+string(k)); return nil }

// foreign is a batch of no implementation: Write must accept it by replay.
type foreign struct{ recorder }

func (f *foreign) Put(k, v []byte) { _ = f.recorder.Put(k, v) }
func (f *foreign) Delete(k []byte) { _ = f.recorder.Delete(k) }
func (f *foreign) Len() int        { return len(f.ops) }
func (f *foreign) ValueSize() int  { return 0 }
func (f *foreign) Reset()          { f.ops = nil }
func (f *foreign) Replay(w kv.Writer) error {
	for _, op := range f.ops {
		var err error
		if k, ok := bytes.CutPrefix([]byte(op), []byte("del ")); ok {
			err = w.Delete(k)
		} else {
			k, v, _ := bytes.Cut([]byte(op[4:]), []byte("="))
			err = w.Put(k, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func testReplay(t *testing.T, s kv.Store) {
	b := s.NewBatch()
	b.Put([]byte("a"), []byte("1"))
	b.Delete([]byte("b"))
	var r recorder
	if err := b.Replay(&r); err != nil {
		t.Fatal(err)
	}
	if want := []string{"put a=1", "del b"}; fmt.Sprint(r.ops) != fmt.Sprint(want) {
		t.Fatalf("Replay = %q, want %q", r.ops, want)
	}
	f := new(foreign)
	f.Put([]byte("f"), []byte("1"))
	if err := s.Write(f, false); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "f", "1")
}

func fill(t *testing.T, s kv.Store, keys ...string) {
	t.Helper()
	b := s.NewBatch()
	for _, k := range keys {
		b.Put([]byte(k), []byte("v"+k))
	}
	if err := s.Write(b, false); err != nil {
		t.Fatal(err)
	}
}

func walk(t *testing.T, it kv.Iterator) []string {
	t.Helper()
	defer it.Release()
	var out []string
	for it.Next() {
		if string(it.Value()) != "v"+string(it.Key()) {
			t.Fatalf("key %q has value %q", it.Key(), it.Value())
		}
		out = append(out, string(it.Key()))
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	return out
}

func testIterate(t *testing.T, s kv.Store) {
	fill(t, s, "b3", "a", "b1", "b2", "c", "b", "b\xff", "c1")
	for _, c := range []struct {
		prefix, start string
		want          []string
	}{
		{"b", "", []string{"b", "b1", "b2", "b3", "b\xff"}},
		{"b", "2", []string{"b2", "b3", "b\xff"}},
		{"b", "25", []string{"b3", "b\xff"}},
		{"", "", []string{"a", "b", "b1", "b2", "b3", "b\xff", "c", "c1"}},
		{"", "c", []string{"c", "c1"}},
		{"d", "", nil},
	} {
		var start []byte
		if c.start != "" {
			start = []byte(c.start)
		}
		got := walk(t, s.NewIterator([]byte(c.prefix), start))
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("NewIterator(%q, %q) = %q, want %q", c.prefix, c.start, got, c.want)
		}
	}
}

func testReverse(t *testing.T, s kv.Store) {
	fill(t, s, "a", "b1", "b2", "b3", "c")
	for _, c := range []struct {
		prefix, limit string
		want          []string
	}{
		{"b", "", []string{"b3", "b2", "b1"}},
		{"b", "3", []string{"b2", "b1"}},
		{"b", "0", nil},
		{"", "", []string{"c", "b3", "b2", "b1", "a"}},
	} {
		var limit []byte
		if c.limit != "" {
			limit = []byte(c.limit)
		}
		got := walk(t, kv.ReverseIterator(s, []byte(c.prefix), limit))
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("ReverseIterator(%q, %q) = %q, want %q", c.prefix, c.limit, got, c.want)
		}
	}
}

func testBulk(t *testing.T, s kv.Store) {
	fill(t, s, "old")
	b, err := kv.NewBulk(s)
	if err != nil {
		t.Fatal(err)
	}
	b.Put([]byte("n1"), []byte("vn1"))
	b.Delete([]byte("old"))
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	b.Discard() // a no-op after Commit
	mustGet(t, s, "n1", "vn1")
	mustMiss(t, s, "old")

	d, err := kv.NewBulk(s)
	if err != nil {
		t.Fatal(err)
	}
	d.Put([]byte("n2"), []byte("x"))
	d.Discard()
	mustMiss(t, s, "n2")
	if err := s.Put([]byte("after"), []byte("1")); err != nil {
		t.Fatalf("write after a discarded bulk: %v", err)
	}
}

func testPutSync(t *testing.T, s kv.Store) {
	if err := kv.PutSync(s, []byte("vote"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "vote", "1")
}
