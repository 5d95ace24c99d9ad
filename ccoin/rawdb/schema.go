package rawdb

import (
	"encoding/binary"
	"errors"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// SchemaVersion is the layout of the data directory this software reads
// and writes; chain.Init stores it and chain.Open refuses any other.
//
//	1  the first version (no version key): rolling finality, no block tree
//	2  finality by votes: the child index 'c' that fork choice walks,
//	   votes 'V', justifications 'J', offences 'O', m/cert, m/lastvote
//	3  block encodings in segment files beside the database
//	   (package kv/blockfile); 'b' holds a reference to them
//
// A version-1 directory lacks the child index, so reading it would make
// fork choice see a chain of genesis alone: it is refused, never misread.
const SchemaVersion = 3

// ErrMalformed is a record of the wrong size: a damaged database.
var ErrMalformed = errors.New("rawdb: malformed record")

// The storage schema. Keys are a one-byte table prefix followed by a
// fixed-size id, so each table is a contiguous key range.
var (
	keySchema    = []byte("m/schema")    // SchemaVersion, decimal
	keyGenesis   = []byte("m/genesis")   // genesis.json as given to initc
	keyHead      = []byte("m/head")      // id of the canonical head
	keyFinalized = []byte("m/finalized") // id of the finalized block
	keyCert      = []byte("m/cert")      // newest finality certificate
	keyLastVote  = []byte("m/lastvote")  // this validator's last signed vote (fsynced before it is sent)
	keyBase      = []byte("m/base")      // sealed header (block encoding without txs) of the snapshot block
)

const (
	tBlock    = 'b' // b ‖ id          -> block encoding
	tHeader   = 'h' // h ‖ id          -> header encoding
	tCanon    = 'n' // n ‖ number(8)   -> id of the canonical block
	tTx       = 't' // t ‖ tx id       -> block id ‖ index(4), canonical only
	tSlot     = 'q' // q ‖ slot(8) ‖ sealer -> first block id seen
	tEvidence = 'v' // v ‖ slot(8) ‖ sealer -> two header encodings
	tChild    = 'c' // c ‖ parent id ‖ child id -> empty: the block tree, for fork choice
	tVote     = 'V' // V ‖ target epoch(8) ‖ vote id -> vote, while above the final epoch
	tJustify  = 'J' // J ‖ epoch(8) ‖ block id -> the quorum votes that justified it
	tOffence  = 'O' // O ‖ target epoch(8) ‖ vote id -> two votes: a double or surround vote
	// x ‖ address ‖ number(8) ‖ index(4) -> tx id, canonical only: the
	// transfers an address sent or received in the newest
	// AddressIndexBlocks blocks, for account pages. One entry per party
	// (65 bytes each); readers take at most MaxAddressTxs, newest first.
	tAddrTx = 'x'

	// Owned by package state (see its store.go), listed here so that no
	// table above takes their prefix:
	//	a ‖ address -> account encoding at the head
	//	u ‖ id      -> state.EncodeChanges record (undo)
	//	s ‖ hash    -> state tree node
)

// IsBlockKey reports whether key is a block encoding's ('b'): the values
// kept outside the key-value store, in kv/blockfile's segments.
func IsBlockKey(key []byte) bool { return len(key) == 1+32 && key[0] == tBlock }

// Tables lists every one-byte table prefix this package writes, for a
// test elsewhere that checks them against the state tables.
var Tables = []byte{tBlock, tHeader, tCanon, tTx, tSlot, tEvidence, tChild, tVote, tJustify, tOffence, tAddrTx}

func childKey(parent, child types.Hash) []byte {
	k := make([]byte, 65)
	k[0] = tChild
	copy(k[1:], parent[:])
	copy(k[33:], child[:])
	return k
}

func epochKey(t byte, epoch uint64, id types.Hash) []byte {
	k := make([]byte, 41)
	k[0] = t
	binary.BigEndian.PutUint64(k[1:], epoch)
	copy(k[9:], id[:])
	return k
}

func idKey(t byte, id types.Hash) []byte {
	k := make([]byte, 33)
	k[0] = t
	copy(k[1:], id[:])
	return k
}

func numKey(n uint64) []byte {
	k := make([]byte, 9)
	k[0] = tCanon
	binary.BigEndian.PutUint64(k[1:], n)
	return k
}

func slotKey(t byte, slot uint64, sealer crypto.Address) []byte {
	k := make([]byte, 29)
	k[0] = t
	binary.BigEndian.PutUint64(k[1:], slot)
	copy(k[9:], sealer[:])
	return k
}

func addrTxKey(a crypto.Address, number uint64, index int) []byte {
	k := make([]byte, 33)
	k[0] = tAddrTx
	copy(k[1:], a[:])
	binary.BigEndian.PutUint64(k[21:], number)
	binary.BigEndian.PutUint32(k[29:], uint32(index))
	return k
}

func addrTxPrefix(a crypto.Address) []byte {
	k := make([]byte, 21)
	k[0] = tAddrTx
	copy(k[1:], a[:])
	return k
}
