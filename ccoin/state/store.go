package state

import (
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

// The state's tables in the chain's database (the rest of the schema is in
// package rawdb, which lists these too so that no prefix is taken twice):
//
//	a ‖ address -> account encoding at the head (absent: the zero account)
//	u ‖ block id -> EncodeChanges record, to undo or redo the block
//	s ‖ hash    -> state tree node
const (
	tAccount = 'a'
	tUndo    = 'u'
)

// Tables lists the one-byte table prefixes the state owns.
var Tables = []byte{tAccount, tUndo, NodePrefix[0]}

// NodePrefix is the key prefix of state tree nodes.
var NodePrefix = []byte("s")

// Writer receives records: a kv.Batch or a kv.Bulk.
type Writer interface {
	Put(key, value []byte)
	Delete(key []byte)
}

func accountKey(a crypto.Address) []byte {
	k := make([]byte, 21)
	k[0] = tAccount
	copy(k[1:], a[:])
	return k
}

func undoKey(id types.Hash) []byte {
	k := make([]byte, 33)
	k[0] = tUndo
	copy(k[1:], id[:])
	return k
}

// ReadAccountRaw returns an account's encoding in the flat table at the
// head, or kv.ErrNotFound for an account the table does not hold.
func ReadAccountRaw(db kv.Reader, a crypto.Address) ([]byte, error) { return db.Get(accountKey(a)) }

// WriteAccount sets an account in the flat table; the zero account is
// deleted, so the table holds only accounts that exist.
func WriteAccount(w Writer, a crypto.Address, acc types.Account) {
	if acc == (types.Account{}) {
		w.Delete(accountKey(a))
		return
	}
	w.Put(accountKey(a), acc.Encode(nil))
}

// WriteAccountRaw stores an account encoding as it is.
func WriteAccountRaw(w Writer, a crypto.Address, enc []byte) { w.Put(accountKey(a), enc) }

// NewAccountIterator walks the flat table in address order; each key is
// the table prefix followed by the address.
func NewAccountIterator(db kv.Iteratee) kv.Iterator { return db.NewIterator([]byte{tAccount}, nil) }

// ReadUndoRaw returns a block's undo record as stored.
func ReadUndoRaw(db kv.Reader, id types.Hash) ([]byte, error) { return db.Get(undoKey(id)) }

// ReadUndo returns a block's changes from its undo record.
func ReadUndo(db kv.Reader, id types.Hash) ([]Change, error) {
	v, err := db.Get(undoKey(id))
	if err != nil {
		return nil, err
	}
	return DecodeChanges(v)
}

// WriteUndo stores a block's changes as its undo record.
func WriteUndo(w Writer, id types.Hash, changes []Change) { w.Put(undoKey(id), EncodeChanges(changes)) }

// DeleteUndo drops a block's undo record, once no reorganisation can
// reach the block.
func DeleteUndo(w Writer, id types.Hash) { w.Delete(undoKey(id)) }

// NodeStore reads state tree nodes from db.
func NodeStore(db kv.Reader) smt.KVStore { return smt.KVStore{DB: db, Prefix: NodePrefix} }

// NodeWriter puts new state tree nodes into w, to commit with the block
// that made them.
func NodeWriter(w Writer) smt.BatchWriter { return smt.BatchWriter{Batch: w, Prefix: NodePrefix} }
