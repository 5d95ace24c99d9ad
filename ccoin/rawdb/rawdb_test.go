package rawdb

import (
	"errors"
	"slices"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/kv/memorydb"
	"ccoin/ccoin/types"
)

func commit(t *testing.T, db kv.Store, fn func(w Writer)) {
	t.Helper()
	b := db.NewBatch()
	fn(b)
	if err := db.Write(b, true); err != nil {
		t.Fatal(err)
	}
}

func TestPointersAndIndexes(t *testing.T) {
	db := memorydb.New()
	id, kid := types.Hash{1}, types.Hash{2}
	if _, err := ReadHeadID(db); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("head of an empty db: %v", err)
	}
	commit(t, db, func(w Writer) {
		WriteHeadID(w, id)
		WriteCanonicalID(w, 3, id)
		WriteTxLocation(w, kid, id, 9)
		WriteChild(w, id, kid)
		WriteChild(w, kid, id)
	})
	if got, err := ReadHeadID(db); err != nil || got != id {
		t.Fatalf("head %s, %v", got, err)
	}
	if got, err := ReadCanonicalID(db, 3); err != nil || got != id {
		t.Fatalf("canonical %s, %v", got, err)
	}
	if b, i, err := ReadTxLocation(db, kid); err != nil || b != id || i != 9 {
		t.Fatalf("tx location %s %d, %v", b, i, err)
	}
	if kids, err := ReadChildren(db, id); err != nil || !slices.Equal(kids, []types.Hash{kid}) {
		t.Fatalf("children %v, %v", kids, err)
	}
	commit(t, db, func(w Writer) { DeleteCanonicalID(w, 3); DeleteTxLocation(w, kid) })
	if _, err := ReadCanonicalID(db, 3); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("deleted canonical entry: %v", err)
	}
	// A damaged pointer is reported as malformed, not misread.
	if err := db.Put(keyHead, []byte("short")); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadHeadID(db); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short head: %v", err)
	}
}

func TestAddressTxsNewestFirst(t *testing.T) {
	db := memorydb.New()
	a, other := crypto.Address{1}, crypto.Address{2}
	commit(t, db, func(w Writer) {
		for n := uint64(1); n <= 4; n++ {
			WriteAddressTx(w, a, n, 0, types.Hash{byte(n)})
			WriteAddressTx(w, other, n, 0, types.Hash{0xff})
		}
	})
	var got []uint64
	err := ReadAddressTxs(db, a, 4, func(n uint64, _ int, txid types.Hash) bool {
		if txid != (types.Hash{byte(n)}) {
			t.Errorf("block %d: tx %s", n, txid)
		}
		got = append(got, n)
		return len(got) < 2
	})
	if err != nil || !slices.Equal(got, []uint64{3, 2}) {
		t.Fatalf("got %v, %v; want blocks 3, 2", got, err)
	}
}

func TestVotes(t *testing.T) {
	db := memorydb.New()
	vote := func(epoch uint64) *types.Vote {
		return &types.Vote{Version: types.VoteVersion, Target: types.Checkpoint{Epoch: epoch}, Voter: crypto.Address{byte(epoch)}}
	}
	commit(t, db, func(w Writer) {
		for e := uint64(1); e <= 3; e++ {
			WriteVote(w, vote(e))
			WriteJustified(w, types.Checkpoint{Epoch: e}, []*types.Vote{vote(e)})
		}
		WriteOffence(w, vote(1), vote(2))
	})
	b := db.NewBatch()
	if err := DeleteVotesBelow(db, b, 0, 3); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(b, false); err != nil {
		t.Fatal(err)
	}
	var votes, just, offences int
	if err := ReadVotes(db, func([]byte) error { votes++; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := ReadJustified(db, func(cp types.Checkpoint, _ []byte) error {
		if cp.Epoch != 3 {
			t.Errorf("justification of epoch %d survived", cp.Epoch)
		}
		just++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := ReadOffences(db, func([]byte) error { offences++; return nil }); err != nil {
		t.Fatal(err)
	}
	if votes != 1 || just != 1 || offences != 1 {
		t.Fatalf("votes %d, justifications %d, offences %d; want 1 each (epoch 3, and the offence)", votes, just, offences)
	}
}
