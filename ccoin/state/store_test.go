package state

import (
	"errors"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/kv/memorydb"
	"ccoin/ccoin/types"
)

// The flat table holds only accounts that exist: writing the zero
// account deletes it. Undo records read back as written.
func TestStoreTables(t *testing.T) {
	db := memorydb.New()
	a := crypto.Address{1}
	acc := types.Account{Balance: 5, Nonce: 1}
	id := types.Hash{7}
	changes := []Change{{Addr: a, Before: types.Account{}, After: acc}}
	b := db.NewBatch()
	WriteAccount(b, a, acc)
	WriteUndo(b, id, changes)
	if err := db.Write(b, false); err != nil {
		t.Fatal(err)
	}
	if v, err := ReadAccountRaw(db, a); err != nil || string(v) != string(acc.Encode(nil)) {
		t.Fatalf("account %x, %v", v, err)
	}
	if got, err := ReadUndo(db, id); err != nil || len(got) != 1 || got[0] != changes[0] {
		t.Fatalf("undo %+v, %v", got, err)
	}
	b.Reset()
	WriteAccount(b, a, types.Account{})
	DeleteUndo(b, id)
	if err := db.Write(b, false); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAccountRaw(db, a); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("zero account still stored: %v", err)
	}
	if _, err := ReadUndo(db, id); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("undo record still stored: %v", err)
	}
}
