package chain

import (
	"encoding/binary"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/rawdb"
	"ccoin/ccoin/state"
	"ccoin/ccoin/types"
)

// The on-disk layout, spelled out here independently of packages rawdb
// and state: the corruption and schema tests damage records by these keys,
// and TestLayout pins the accessors to them, so that existing data
// directories keep opening (DESIGN: the layout must not change).
var (
	keySchema    = []byte("m/schema")
	keyHead      = []byte("m/head")
	keyFinalized = []byte("m/finalized")
	prefixNode   = []byte("s")
)

const (
	tBlock   = 'b'
	tHeader  = 'h'
	tCanon   = 'n'
	tAccount = 'a'
	tUndo    = 'u'
)

func idKey(t byte, id types.Hash) []byte { return append([]byte{t}, id[:]...) }

func numKey(n uint64) []byte { return binary.BigEndian.AppendUint64([]byte{tCanon}, n) }

func accountKey(a crypto.Address) []byte { return append([]byte{tAccount}, a[:]...) }

// TestLayout writes one record of each kind through the accessors and
// checks the exact key each one lands on.
func TestLayout(t *testing.T) {
	id, kid := types.Hash{1, 2, 3}, types.Hash{4}
	addr := crypto.Address{9, 8, 7}
	rec := &recordingWriter{}
	rawdb.WriteHeadID(rec, id)
	rawdb.WriteFinalizedID(rec, id)
	rawdb.WriteSchemaVersion(rec)
	rawdb.WriteBlock(rec, id, []byte("blk"))
	rawdb.WriteCanonicalID(rec, 5, id)
	rawdb.WriteTxLocation(rec, id, id, 7)
	rawdb.WriteChild(rec, id, kid)
	rawdb.WriteAddressTx(rec, addr, 5, 7, id)
	state.WriteAccount(rec, addr, types.Account{Balance: 1})
	state.WriteUndo(rec, id, nil)
	state.NodeWriter(rec).PutNode(id, []byte("node"))
	want := []string{
		string(keyHead), string(keyFinalized), string(keySchema),
		string(idKey(tBlock, id)), string(numKey(5)), string(idKey('t', id)),
		string(append(idKey('c', id), kid[:]...)),
		string(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(append([]byte{'x'}, addr[:]...), 5), 7)),
		string(accountKey(addr)), string(idKey(tUndo, id)), string(append(prefixNode, id[:]...)),
	}
	if len(rec.keys) != len(want) {
		t.Fatalf("%d records, want %d", len(rec.keys), len(want))
	}
	for i := range want {
		if rec.keys[i] != want[i] {
			t.Errorf("record %d: key %x, want %x", i, rec.keys[i], want[i])
		}
	}
	if v := rec.vals[2]; v != "3" || SchemaVersion != 3 {
		t.Errorf("schema version %q (const %d), want 3", v, SchemaVersion)
	}
	if v := rec.vals[5]; v != string(id[:])+"\x00\x00\x00\x07" {
		t.Errorf("tx location %x", v)
	}
	// No table prefix is taken twice.
	seen := map[byte]bool{'m': true}
	for _, p := range append(append([]byte(nil), rawdb.Tables...), state.Tables...) {
		if seen[p] {
			t.Errorf("table prefix %q used twice", p)
		}
		seen[p] = true
	}
}

type recordingWriter struct{ keys, vals []string }

func (w *recordingWriter) Put(k, v []byte) {
	w.keys, w.vals = append(w.keys, string(k)), append(w.vals, string(v))
}

func (w *recordingWriter) Delete(k []byte) {
	w.keys, w.vals = append(w.keys, string(k)), append(w.vals, "")
}
