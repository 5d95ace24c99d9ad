package chain

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/types"
)

// corruptFixture is a closed database with a few blocks, and what the
// damage cases need to know about it.
type corruptFixture struct {
	e         *env
	dir       string // pristine copy; each case damages its own copy
	flushed   bool   // tables written (reopened once), not just the journal
	headID    types.Hash
	head      *types.Header
	touched   crypto.Address // changed by the head block
	untouched crypto.Address // in the state, not changed by the head block
}

func newCorruptFixture(t *testing.T, flushed bool) *corruptFixture {
	e := newEnv(t, 1, 3)
	m, u0, u1 := e.miners[0], e.users[0], e.users[1]
	for i := range 6 {
		e.mustImport(makeBlock(t, e.c, e.head(), m, uint64(i+1), e.tx(u0, u1.Address(), uint64(i+1), 10)))
	}
	f := &corruptFixture{e: e, flushed: flushed, touched: u0.Address(), untouched: e.users[2].Address()}
	f.head, f.headID = e.c.Head()
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	if flushed {
		// Reopening turns the journal into a table file.
		db, err := OpenDB(e.dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	f.dir = e.dir
	return f
}

// copyDir gives a case its own copy of the pristine database.
func (f *corruptFixture) copyDir(t *testing.T) string {
	dst := filepath.Join(t.TempDir(), "db")
	if err := os.CopyFS(dst, os.DirFS(f.dir)); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(filepath.Join(dst, "LOCK"))
	return dst
}

// open is what a node does at start: OpenDB then Open.
func (f *corruptFixture) open(dir string) (kv.Store, *Chain, error) {
	db, err := OpenDB(dir)
	if err != nil {
		return nil, nil, err
	}
	c, err := Open(db, Config{Genesis: f.e.g, Verifier: linkVerifier{}, Finality: &testFinality{}})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, c, nil
}

// edit applies a key-level change through LevelDB itself, like lost or
// overwritten records would look.
func edit(t *testing.T, dir string, fn func(db kv.Store) error) {
	db, err := OpenDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(db); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func newest(t *testing.T, dir, suffix string) string {
	var names []string
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), suffix) || (suffix == "MANIFEST" && strings.HasPrefix(e.Name(), "MANIFEST-")) {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatalf("no %s file in %s", suffix, dir)
	}
	slices.Sort(names)
	return filepath.Join(dir, names[len(names)-1])
}

func rewrite(t *testing.T, path string, fn func([]byte) []byte) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// garble flips every byte in [from, to) of b.
func garble(b []byte, from, to int) []byte {
	for i := max(from, 0); i < min(to, len(b)); i++ {
		b[i] ^= 0x5a
	}
	return b
}

// TestCorruptionDetected damages a closed database in ways a disk, a bug or
// a person can, and requires the next start to refuse with ErrCorrupt
// instead of running on wrong state. (Every case, including a destroyed
// MANIFEST or CURRENT, comes back as ErrCorrupt.)
func TestCorruptionDetected(t *testing.T) {
	flushed := newCorruptFixture(t, true)
	journal := newCorruptFixture(t, false)
	encAcc := types.Account{Balance: 123456789, Nonce: 3}.Encode(nil)

	rows := []struct {
		name   string
		f      *corruptFixture
		damage func(t *testing.T, f *corruptFixture, dir string)
	}{
		{"newest table truncated", flushed, func(t *testing.T, f *corruptFixture, dir string) {
			rewrite(t, newest(t, dir, ".ldb"), func(b []byte) []byte { return b[:len(b)/2] })
		}},
		{"newest table garbled", flushed, func(t *testing.T, f *corruptFixture, dir string) {
			rewrite(t, newest(t, dir, ".ldb"), func(b []byte) []byte { return garble(b, 0, len(b)-48) })
		}},
		{"newest table garbled in the middle", flushed, func(t *testing.T, f *corruptFixture, dir string) {
			rewrite(t, newest(t, dir, ".ldb"), func(b []byte) []byte { return garble(b, len(b)/3, 2*len(b)/3) })
		}},
		{"manifest garbled", flushed, func(t *testing.T, f *corruptFixture, dir string) {
			rewrite(t, newest(t, dir, "MANIFEST"), func(b []byte) []byte { return garble(b, 0, len(b)) })
		}},
		{"manifest truncated to nothing", flushed, func(t *testing.T, f *corruptFixture, dir string) {
			rewrite(t, newest(t, dir, "MANIFEST"), func(b []byte) []byte { return nil })
		}},
		{"manifest deleted", flushed, func(t *testing.T, f *corruptFixture, dir string) {
			if err := os.Remove(newest(t, dir, "MANIFEST")); err != nil {
				t.Fatal(err)
			}
		}},
		{"CURRENT garbled", flushed, func(t *testing.T, f *corruptFixture, dir string) {
			rewrite(t, filepath.Join(dir, "CURRENT"), func(b []byte) []byte { return []byte("MANIFEST-99x\n") })
		}},
		{"CURRENT and its backup deleted", flushed, func(t *testing.T, f *corruptFixture, dir string) {
			_ = os.Remove(filepath.Join(dir, "CURRENT.bak"))
			if err := os.Remove(filepath.Join(dir, "CURRENT")); err != nil {
				t.Fatal(err)
			}
		}},
		{"head header lost", flushed, func(t *testing.T, f *corruptFixture, dir string) {
			edit(t, dir, func(db kv.Store) error { return db.Delete(idKey(tHeader, f.headID)) })
		}},
		{"head block lost", flushed, func(t *testing.T, f *corruptFixture, dir string) {
			edit(t, dir, func(db kv.Store) error { return db.Delete(idKey(tBlock, f.headID)) })
		}},
		{"head canonical index lost", journal, func(t *testing.T, f *corruptFixture, dir string) {
			edit(t, dir, func(db kv.Store) error { return db.Delete(numKey(f.head.Number)) })
		}},
		{"head undo record lost", journal, func(t *testing.T, f *corruptFixture, dir string) {
			edit(t, dir, func(db kv.Store) error { return db.Delete(idKey(tUndo, f.headID)) })
		}},
		{"head state root node lost", flushed, func(t *testing.T, f *corruptFixture, dir string) {
			edit(t, dir, func(db kv.Store) error {
				return db.Delete(append(slices.Clone(prefixNode), f.head.StateRoot[:]...))
			})
		}},
		{"head pointer garbled", journal, func(t *testing.T, f *corruptFixture, dir string) {
			edit(t, dir, func(db kv.Store) error { return db.Put(keyHead, []byte("short")) })
		}},
		{"finalized pointer to an unknown block", journal, func(t *testing.T, f *corruptFixture, dir string) {
			edit(t, dir, func(db kv.Store) error { return db.Put(keyFinalized, make([]byte, 32)) })
		}},
		{"account touched by the head overwritten", flushed, func(t *testing.T, f *corruptFixture, dir string) {
			edit(t, dir, func(db kv.Store) error { return db.Put(accountKey(f.touched), encAcc) })
		}},
		{"account touched by the head deleted", journal, func(t *testing.T, f *corruptFixture, dir string) {
			edit(t, dir, func(db kv.Store) error { return db.Delete(accountKey(f.touched)) })
		}},
		{"account touched by the head undecodable", journal, func(t *testing.T, f *corruptFixture, dir string) {
			edit(t, dir, func(db kv.Store) error { return db.Put(accountKey(f.touched), []byte{0xff}) })
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			dir := row.f.copyDir(t)
			row.damage(t, row.f, dir)
			db, _, err := row.f.open(dir)
			if err == nil {
				db.Close()
				t.Fatal("damaged database opened without error")
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("want ErrCorrupt, got %v", err)
			}
			t.Logf("refused: %v", err)
		})
	}
}

// TestCorruptionKnownGaps runs damage that the start-up check does not
// catch today. A damaged journal must at least leave a consistent (older)
// state; the cases are skipped, not failed, while the gap stands, and the
// skip message says what is lost.
func TestCorruptionKnownGaps(t *testing.T) {
	f := newCorruptFixture(t, false)
	flushed := newCorruptFixture(t, true)
	rows := []struct {
		name       string
		f          *corruptFixture
		consistent bool // if it opens, the state must still be consistent
		gap        string
		damage     func(t *testing.T, f *corruptFixture, dir string)
	}{
		{"journal garbled in the middle", f, true,
			"LevelDB drops a damaged journal block without StrictJournal: the chain opens at an older, consistent head and committed blocks are silently lost",
			func(t *testing.T, f *corruptFixture, dir string) {
				rewrite(t, newest(t, dir, ".log"), func(b []byte) []byte { return garble(b, len(b)/2, len(b)/2+20) })
			}},
		{"account the head did not touch overwritten", flushed, false,
			"Open compares table and tree only for the accounts the head block changed; other flat-table entries are served unchecked",
			func(t *testing.T, f *corruptFixture, dir string) {
				edit(t, dir, func(db kv.Store) error {
					return db.Put(accountKey(f.untouched), types.Account{Balance: 5, Nonce: 5}.Encode(nil))
				})
			}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			dir := row.f.copyDir(t)
			row.damage(t, row.f, dir)
			db, c, err := row.f.open(dir)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("want ErrCorrupt, got %v", err)
				}
				return // detected: the gap is closed
			}
			defer db.Close()
			serr := checkHeadState(c, db)
			if serr == nil {
				serr = checkCanonical(c)
			}
			if row.consistent && serr != nil {
				t.Fatalf("opened with inconsistent state: %v", serr)
			}
			h, _ := c.Head()
			t.Skipf("known gap: %s (head %d, was %d; state check: %v)", row.gap, h.Number, row.f.head.Number, serr)
		})
	}
}
