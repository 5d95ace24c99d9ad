package chain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"ccoin/ccoin/consensus"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/types"
)

// VoteStore keeps finality's votes, justifications, certificate, evidence
// and this validator's last vote in the chain's database, under the keys
// in schema.go. It implements consensus.VoteDB and consensus.VoteRecord.
type VoteStore struct {
	db     kv.Store
	pruned uint64 // epochs below this were pruned since open: skip their tombstones
}

// NewVoteStore returns the vote store of db.
func NewVoteStore(db kv.Store) *VoteStore { return &VoteStore{db: db} }

var (
	_ consensus.VoteDB     = (*VoteStore)(nil)
	_ consensus.VoteRecord = (*VoteStore)(nil)
)

// PutVote stores a valid vote above the final epoch. Not synced: a lost
// vote costs only liveness, and peers serve it again.
func (s *VoteStore) PutVote(v *types.Vote) error {
	return s.db.Put(epochKey(tVote, v.Target.Epoch, v.ID()), v.Encode(nil))
}

// PutJustified records a justified checkpoint with its quorum votes, synced:
// justification is durable (DESIGN section 5).
func (s *VoteStore) PutJustified(cp types.Checkpoint, votes []*types.Vote) error {
	return kv.PutSync(s.db, epochKey(tJustify, cp.Epoch, cp.ID), types.EncodeVotes(nil, votes))
}

// PutCertificate replaces the newest certificate, synced.
func (s *VoteStore) PutCertificate(c *types.Certificate) error {
	return kv.PutSync(s.db, keyCert, c.Encode(nil))
}

// PutOffence stores evidence: both votes.
func (s *VoteStore) PutOffence(o consensus.Offence) error {
	return s.db.Put(epochKey(tOffence, o.B.Target.Epoch, o.B.ID()), types.EncodeVotes(nil, []*types.Vote{o.A, o.B}))
}

// PruneVotes drops votes and justifications at or below the final epoch.
func (s *VoteStore) PruneVotes(finalEpoch uint64) error {
	batch := s.db.NewBatch()
	for _, t := range []byte{tVote, tJustify} {
		start, limit := epochKey(t, s.pruned, types.Hash{}), epochKey(t, finalEpoch+1, types.Hash{})
		it := s.db.NewIterator([]byte{t}, start[1:])
		for it.Next() && bytes.Compare(it.Key(), limit) < 0 {
			batch.Delete(append([]byte(nil), it.Key()...))
		}
		it.Release()
		if err := it.Error(); err != nil {
			return err
		}
	}
	if err := s.db.Write(batch, false); err != nil {
		return err
	}
	s.pruned = finalEpoch + 1
	return nil
}

// Load returns everything stored.
func (s *VoteStore) Load() (consensus.StoredFinality, error) {
	var st consensus.StoredFinality
	raw, err := s.db.Get(keyCert)
	switch {
	case err == nil:
		if st.Cert, err = types.DecodeCertificate(raw); err != nil {
			return st, fmt.Errorf("%w: certificate: %w", ErrCorrupt, err)
		}
	case !errors.Is(err, kv.ErrNotFound):
		return st, err
	}
	st.Justified = make(map[types.Checkpoint][]*types.Vote)
	err = s.scan(tJustify, func(k, v []byte) error {
		votes, err := types.DecodeVotes(v)
		if err != nil {
			return err
		}
		var cp types.Checkpoint
		cp.Epoch = binary.BigEndian.Uint64(k[1:9])
		copy(cp.ID[:], k[9:])
		st.Justified[cp] = votes
		return nil
	})
	if err != nil {
		return st, err
	}
	err = s.scan(tVote, func(_, v []byte) error {
		vote, err := types.DecodeVote(v)
		if err == nil {
			st.Votes = append(st.Votes, vote)
		}
		return err
	})
	if err != nil {
		return st, err
	}
	err = s.scan(tOffence, func(_, v []byte) error {
		votes, err := types.DecodeVotes(v)
		if err == nil && len(votes) == 2 {
			kind := "double_vote"
			if votes[0].Target.Epoch != votes[1].Target.Epoch {
				kind = "surround_vote"
			}
			st.Offences = append(st.Offences, consensus.Offence{Kind: kind, Voter: votes[1].Voter, A: votes[0], B: votes[1]})
		}
		return err
	})
	return st, err
}

func (s *VoteStore) scan(t byte, fn func(k, v []byte) error) error {
	it := s.db.NewIterator([]byte{t}, nil)
	defer it.Release()
	for it.Next() {
		if len(it.Key()) != 41 {
			continue
		}
		if err := fn(it.Key(), it.Value()); err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	return it.Error()
}

// LastVote returns this validator's last signed vote.
func (s *VoteStore) LastVote() (*types.Vote, error) {
	raw, err := s.db.Get(keyLastVote)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v, err := types.DecodeVote(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: last vote: %w", ErrCorrupt, err)
	}
	return v, nil
}

// SaveVote records this validator's vote, synced, before it is sent.
func (s *VoteStore) SaveVote(v *types.Vote) error {
	return kv.PutSync(s.db, keyLastVote, v.Encode(nil))
}
