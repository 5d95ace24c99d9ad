package chain

import (
	"errors"
	"strings"
	"testing"

	"ccoin/ccoin/kv"
)

// TestSchemaVersion: Init stores the schema version and Open checks it; a
// data directory without it (written before finality by votes, which lacks
// the block tree fork choice walks) or with another version is refused by
// Open and by Init with ErrSchema and a message that says how to start
// afresh, and nothing is changed.
func TestSchemaVersion(t *testing.T) {
	rows := []struct {
		name string
		edit func(db kv.Store) error
	}{
		{"no version: a first-version directory", func(db kv.Store) error { return db.Delete(keySchema) }},
		{"a newer version", func(db kv.Store) error { return db.Put(keySchema, []byte("4")) }},
		{"an older version", func(db kv.Store) error { return db.Put(keySchema, []byte("1")) }},
		{"the version before block files", func(db kv.Store) error { return db.Put(keySchema, []byte("2")) }},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			e := newEnv(t, 1, 1)
			if v, err := e.db.Get(keySchema); err != nil || string(v) != "3" || SchemaVersion != 3 {
				t.Fatalf("Init stored schema %q (%v), want 3", v, err)
			}
			if err := row.edit(e.db); err != nil {
				t.Fatal(err)
			}
			_, err := Open(e.db, Config{Genesis: e.g, Verifier: linkVerifier{}, Finality: e.fin})
			if !errors.Is(err, ErrSchema) {
				t.Fatalf("Open: got %v, want ErrSchema", err)
			}
			for _, want := range []string{"chaindata directory aside", "ccoin initc --genesis", "sync"} {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("message %q does not say %q", err, want)
				}
			}
			if _, err := Init(e.db, e.g, []byte("{}")); !errors.Is(err, ErrSchema) {
				t.Fatalf("Init over it: got %v, want ErrSchema", err)
			}
		})
	}
	// A corrupt version is corruption, not another version.
	e := newEnv(t, 1, 1)
	if err := e.db.Put(keySchema, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(e.db, Config{Genesis: e.g, Verifier: linkVerifier{}, Finality: e.fin}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("garbled version: got %v, want ErrCorrupt", err)
	}
	// Open without finality is refused, clearly.
	if _, err := Open(e.db, Config{Genesis: e.g, Verifier: linkVerifier{}}); !errors.Is(err, ErrNoFinality) {
		t.Fatalf("nil Finality: got %v, want ErrNoFinality", err)
	}
}
