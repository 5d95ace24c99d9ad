package rawdb

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/types"
)

// Writer receives records: a kv.Batch or a kv.Bulk. Errors surface when
// the caller commits it.
type Writer interface {
	Put(key, value []byte)
	Delete(key []byte)
}

// readID reads a 32-byte block id.
func readID(db kv.Reader, key []byte) (types.Hash, error) {
	var id types.Hash
	v, err := db.Get(key)
	if err != nil {
		return id, err
	}
	if len(v) != len(id) {
		return id, fmt.Errorf("%w: %s: %d bytes", ErrMalformed, key, len(v))
	}
	return types.Hash(v), nil
}

// ReadSchemaVersion returns the stored schema version as written (decimal).
func ReadSchemaVersion(db kv.Reader) ([]byte, error) { return db.Get(keySchema) }

// WriteSchemaVersion stores SchemaVersion.
func WriteSchemaVersion(w Writer) { w.Put(keySchema, []byte(strconv.Itoa(SchemaVersion))) }

// ReadGenesisJSON returns the genesis file initc stored.
func ReadGenesisJSON(db kv.Reader) ([]byte, error) { return db.Get(keyGenesis) }

// WriteGenesisJSON stores the genesis file as given.
func WriteGenesisJSON(w Writer, raw []byte) { w.Put(keyGenesis, raw) }

// HasHead reports whether the database holds a chain.
func HasHead(db kv.Reader) (bool, error) { return db.Has(keyHead) }

// ReadHeadID returns the id of the canonical head.
func ReadHeadID(db kv.Reader) (types.Hash, error) { return readID(db, keyHead) }

// WriteHeadID moves the canonical head.
func WriteHeadID(w Writer, id types.Hash) { w.Put(keyHead, id[:]) }

// ReadFinalizedID returns the id of the finalized block.
func ReadFinalizedID(db kv.Reader) (types.Hash, error) { return readID(db, keyFinalized) }

// WriteFinalizedID moves the finalized block.
func WriteFinalizedID(w Writer, id types.Hash) { w.Put(keyFinalized, id[:]) }

// ReadBase returns the snapshot base: its sealed header (the block
// encoding without transactions).
func ReadBase(db kv.Reader) ([]byte, error) { return db.Get(keyBase) }

// WriteBase stores the snapshot base's sealed header.
func WriteBase(w Writer, sealed []byte) { w.Put(keyBase, sealed) }

// ReadBlock returns a block's stored encoding.
func ReadBlock(db kv.Reader, id types.Hash) ([]byte, error) { return db.Get(idKey(tBlock, id)) }

// WriteBlock stores a block's encoding.
func WriteBlock(w Writer, id types.Hash, raw []byte) { w.Put(idKey(tBlock, id), raw) }

// ReadHeader returns a header's stored encoding.
func ReadHeader(db kv.Reader, id types.Hash) ([]byte, error) { return db.Get(idKey(tHeader, id)) }

// HasHeader reports whether a header (so a valid block) is stored.
func HasHeader(db kv.Reader, id types.Hash) (bool, error) { return db.Has(idKey(tHeader, id)) }

// WriteHeader stores a header.
func WriteHeader(w Writer, id types.Hash, h *types.Header) { w.Put(idKey(tHeader, id), h.Encode(nil)) }

// ReadCanonicalID returns the id of the canonical block at number n.
func ReadCanonicalID(db kv.Reader, n uint64) (types.Hash, error) {
	var id types.Hash
	v, err := db.Get(numKey(n))
	if err != nil {
		return id, err
	}
	copy(id[:], v)
	return id, nil
}

// ReadCanonicalIDRaw returns the canonical index entry at n as stored, for
// checks that compare it byte for byte.
func ReadCanonicalIDRaw(db kv.Reader, n uint64) ([]byte, error) { return db.Get(numKey(n)) }

// WriteCanonicalID makes id the canonical block at number n.
func WriteCanonicalID(w Writer, n uint64, id types.Hash) { w.Put(numKey(n), id[:]) }

// DeleteCanonicalID drops the canonical block at number n.
func DeleteCanonicalID(w Writer, n uint64) { w.Delete(numKey(n)) }

// ReadTxLocation returns the canonical block holding a transaction and
// its position there.
func ReadTxLocation(db kv.Reader, txid types.Hash) (types.Hash, int, error) {
	var block types.Hash
	v, err := db.Get(idKey(tTx, txid))
	if err != nil {
		return block, 0, err
	}
	if len(v) != 36 {
		return block, 0, fmt.Errorf("%w: tx index entry of %d bytes", ErrMalformed, len(v))
	}
	copy(block[:], v)
	return block, int(binary.BigEndian.Uint32(v[32:])), nil
}

// WriteTxLocation indexes a canonical transaction.
func WriteTxLocation(w Writer, txid, block types.Hash, index int) {
	v := make([]byte, 36)
	copy(v, block[:])
	binary.BigEndian.PutUint32(v[32:], uint32(index))
	w.Put(idKey(tTx, txid), v)
}

// DeleteTxLocation drops a transaction from the canonical index.
func DeleteTxLocation(w Writer, txid types.Hash) { w.Delete(idKey(tTx, txid)) }

// ReadSlotFirst returns the id of the first block seen from sealer for
// slot, as stored.
func ReadSlotFirst(db kv.Reader, slot uint64, sealer crypto.Address) ([]byte, error) {
	return db.Get(slotKey(tSlot, slot, sealer))
}

// WriteSlotFirst records the first block seen from sealer for slot.
func WriteSlotFirst(w Writer, slot uint64, sealer crypto.Address, id types.Hash) {
	w.Put(slotKey(tSlot, slot, sealer), id[:])
}

// WriteEvidence records an equivocation: two headers one sealer signed
// for one slot, encoded by the caller.
func WriteEvidence(w Writer, slot uint64, sealer crypto.Address, enc []byte) {
	w.Put(slotKey(tEvidence, slot, sealer), enc)
}

// NewEvidenceIterator walks the evidence records, by slot then sealer.
func NewEvidenceIterator(db kv.Iteratee) kv.Iterator { return db.NewIterator([]byte{tEvidence}, nil) }

// WriteChild adds child to the block tree under parent.
func WriteChild(w Writer, parent, child types.Hash) { w.Put(childKey(parent, child), nil) }

// ReadChildren lists the stored children of parent.
func ReadChildren(db kv.Iteratee, parent types.Hash) ([]types.Hash, error) {
	var out []types.Hash
	it := db.NewIterator(idKey(tChild, parent), nil)
	defer it.Release()
	for it.Next() {
		var kid types.Hash
		copy(kid[:], it.Key()[33:])
		out = append(out, kid)
	}
	return out, it.Error()
}

// WriteAddressTx indexes a canonical transaction under one of its parties.
func WriteAddressTx(w Writer, a crypto.Address, number uint64, index int, txid types.Hash) {
	w.Put(addrTxKey(a, number, index), txid[:])
}

// DeleteAddressTx drops an entry of the index by address.
func DeleteAddressTx(w Writer, a crypto.Address, number uint64, index int) {
	w.Delete(addrTxKey(a, number, index))
}

// ReadAddressTxs calls fn for a's index entries in blocks below before
// (0: all), newest first, until fn returns false.
func ReadAddressTxs(db kv.Iteratee, a crypto.Address, before uint64, fn func(number uint64, index int, txid types.Hash) bool) error {
	prefix := addrTxPrefix(a)
	var below []byte // the key suffix to stop before: number(8) ‖ index(4)
	if before > 0 {
		below = addrTxKey(a, before, 0)[len(prefix):]
	}
	it := kv.ReverseIterator(db, prefix, below)
	defer it.Release()
	for it.Next() {
		k, v := it.Key(), it.Value()
		if len(k) != 33 || len(v) != 32 {
			return fmt.Errorf("%w: address index entry of %d+%d bytes", ErrMalformed, len(k), len(v))
		}
		if !fn(binary.BigEndian.Uint64(k[21:]), int(binary.BigEndian.Uint32(k[29:])), types.Hash(v)) {
			break
		}
	}
	return it.Error()
}

// NewAddressTxIterator walks the whole index by address, for tests.
func NewAddressTxIterator(db kv.Iteratee) kv.Iterator { return db.NewIterator([]byte{tAddrTx}, nil) }
