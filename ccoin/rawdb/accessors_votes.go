package rawdb

import (
	"bytes"
	"encoding/binary"

	"ccoin/ccoin/kv"
	"ccoin/ccoin/types"
)

// WriteVote stores a vote above the final epoch.
func WriteVote(w Writer, v *types.Vote) {
	w.Put(epochKey(tVote, v.Target.Epoch, v.ID()), v.Encode(nil))
}

// WriteJustified stores the quorum votes that justified cp.
func WriteJustified(w Writer, cp types.Checkpoint, votes []*types.Vote) {
	w.Put(epochKey(tJustify, cp.Epoch, cp.ID), types.EncodeVotes(nil, votes))
}

// WriteOffence stores two votes that together are an offence, under the
// second.
func WriteOffence(w Writer, a, b *types.Vote) {
	w.Put(epochKey(tOffence, b.Target.Epoch, b.ID()), types.EncodeVotes(nil, []*types.Vote{a, b}))
}

// ReadCertificate returns the newest finality certificate's encoding.
func ReadCertificate(db kv.Reader) ([]byte, error) { return db.Get(keyCert) }

// WriteCertificate replaces the newest finality certificate.
func WriteCertificate(w Writer, c *types.Certificate) { w.Put(keyCert, c.Encode(nil)) }

// ReadLastVote returns the encoding of this validator's last signed vote.
func ReadLastVote(db kv.Reader) ([]byte, error) { return db.Get(keyLastVote) }

// WriteLastVote records this validator's last signed vote.
func WriteLastVote(w Writer, v *types.Vote) { w.Put(keyLastVote, v.Encode(nil)) }

// DeleteVotesBelow drops, into w, the votes and justifications of epochs
// from to below until: the range a finalized epoch makes useless.
func DeleteVotesBelow(db kv.Iteratee, w Writer, from, until uint64) error {
	for _, t := range []byte{tVote, tJustify} {
		start, limit := epochKey(t, from, types.Hash{}), epochKey(t, until, types.Hash{})
		it := db.NewIterator([]byte{t}, start[1:])
		for it.Next() && bytes.Compare(it.Key(), limit) < 0 {
			w.Delete(bytes.Clone(it.Key()))
		}
		it.Release()
		if err := it.Error(); err != nil {
			return err
		}
	}
	return nil
}

// ReadJustified calls fn for every stored justification.
func ReadJustified(db kv.Iteratee, fn func(cp types.Checkpoint, votes []byte) error) error {
	return scanEpochs(db, tJustify, func(k, v []byte) error {
		var cp types.Checkpoint
		cp.Epoch = binary.BigEndian.Uint64(k[1:9])
		copy(cp.ID[:], k[9:])
		return fn(cp, v)
	})
}

// ReadVotes calls fn with every stored vote's encoding.
func ReadVotes(db kv.Iteratee, fn func(vote []byte) error) error {
	return scanEpochs(db, tVote, func(_, v []byte) error { return fn(v) })
}

// ReadOffences calls fn with every stored offence's two-vote encoding.
func ReadOffences(db kv.Iteratee, fn func(votes []byte) error) error {
	return scanEpochs(db, tOffence, func(_, v []byte) error { return fn(v) })
}

// scanEpochs walks an epoch table, skipping keys of another length. fn's
// error stops the walk and is returned as it is.
func scanEpochs(db kv.Iteratee, t byte, fn func(k, v []byte) error) error {
	it := db.NewIterator([]byte{t}, nil)
	defer it.Release()
	for it.Next() {
		if len(it.Key()) != 41 {
			continue
		}
		if err := fn(it.Key(), it.Value()); err != nil {
			return err
		}
	}
	return it.Error()
}
