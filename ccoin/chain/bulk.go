package chain

import (
	"fmt"

	"github.com/syndtr/goleveldb/leveldb"
)

// bulkWriter makes one large atomic write: a genesis or snapshot with a
// million accounts. goleveldb's Batch grows its buffer by a fixed amount
// once it holds 3,000 records, so a million-record batch spends minutes
// copying itself; a transaction writes tables directly and commits them
// with one synced manifest record, so a crash leaves all of it or none.
// While it is open the database takes reads but no other writes.
type bulkWriter struct {
	tr  *leveldb.Transaction
	err error // the first failed write; Commit reports it
}

func openBulk(db *leveldb.DB) (*bulkWriter, error) {
	tr, err := db.OpenTransaction()
	if err != nil {
		return nil, fmt.Errorf("open write transaction: %w", err)
	}
	return &bulkWriter{tr: tr}, nil
}

func (w *bulkWriter) Put(key, value []byte) {
	if w.err == nil {
		w.err = w.tr.Put(key, value, nil)
	}
}

func (w *bulkWriter) Delete(key []byte) {
	if w.err == nil {
		w.err = w.tr.Delete(key, nil)
	}
}

// Commit makes every write durable at once, or none on error.
func (w *bulkWriter) Commit() error {
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

// Discard drops the writes; it is a no-op after Commit.
func (w *bulkWriter) Discard() { w.tr.Discard() }
