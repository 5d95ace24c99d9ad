package chain

import (
	"errors"
	"fmt"

	"ccoin/ccoin/consensus"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/rawdb"
	"ccoin/ccoin/types"
)

// VoteStore keeps finality's votes, justifications, certificate, evidence
// and this validator's last vote in the chain's database, through the
// accessors of package rawdb. It implements consensus.VoteDB and
// consensus.VoteRecord.
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

// write commits one record written by fn, synced or not.
func (s *VoteStore) write(sync bool, fn func(w rawdb.Writer)) error {
	b := s.db.NewBatch()
	fn(b)
	return s.db.Write(b, sync)
}

// PutVote stores a valid vote above the final epoch. Not synced: a lost
// vote costs only liveness, and peers serve it again.
func (s *VoteStore) PutVote(v *types.Vote) error {
	return s.write(false, func(w rawdb.Writer) { rawdb.WriteVote(w, v) })
}

// PutJustified records a justified checkpoint with its quorum votes, synced:
// justification is durable (DESIGN section 5).
func (s *VoteStore) PutJustified(cp types.Checkpoint, votes []*types.Vote) error {
	return s.write(true, func(w rawdb.Writer) { rawdb.WriteJustified(w, cp, votes) })
}

// PutCertificate replaces the newest certificate, synced.
func (s *VoteStore) PutCertificate(c *types.Certificate) error {
	return s.write(true, func(w rawdb.Writer) { rawdb.WriteCertificate(w, c) })
}

// PutOffence stores evidence: both votes.
func (s *VoteStore) PutOffence(o consensus.Offence) error {
	return s.write(false, func(w rawdb.Writer) { rawdb.WriteOffence(w, o.A, o.B) })
}

// PruneVotes drops votes and justifications at or below the final epoch.
func (s *VoteStore) PruneVotes(finalEpoch uint64) error {
	batch := s.db.NewBatch()
	if err := rawdb.DeleteVotesBelow(s.db, batch, s.pruned, finalEpoch+1); err != nil {
		return err
	}
	if err := s.db.Write(batch, false); err != nil {
		return err
	}
	s.pruned = finalEpoch + 1
	return nil
}

// errDecode marks a callback's decoding failure while scanning, so Load
// reports it as corruption and a read error as it is.
type errDecode struct{ err error }

func (e errDecode) Error() string { return e.err.Error() }
func (e errDecode) Unwrap() error { return e.err }

// corruptOnDecode wraps a decoding failure found by a scan in ErrCorrupt.
func corruptOnDecode(err error) error {
	var d errDecode
	if errors.As(err, &d) {
		return fmt.Errorf("%w: %w", ErrCorrupt, d.err)
	}
	return err
}

// Load returns everything stored.
func (s *VoteStore) Load() (consensus.StoredFinality, error) {
	var st consensus.StoredFinality
	raw, err := rawdb.ReadCertificate(s.db)
	switch {
	case err == nil:
		if st.Cert, err = types.DecodeCertificate(raw); err != nil {
			return st, fmt.Errorf("%w: certificate: %w", ErrCorrupt, err)
		}
	case !errors.Is(err, kv.ErrNotFound):
		return st, err
	}
	st.Justified = make(map[types.Checkpoint][]*types.Vote)
	err = rawdb.ReadJustified(s.db, func(cp types.Checkpoint, v []byte) error {
		votes, err := types.DecodeVotes(v)
		if err != nil {
			return errDecode{err}
		}
		st.Justified[cp] = votes
		return nil
	})
	if err != nil {
		return st, corruptOnDecode(err)
	}
	err = rawdb.ReadVotes(s.db, func(v []byte) error {
		vote, err := types.DecodeVote(v)
		if err != nil {
			return errDecode{err}
		}
		st.Votes = append(st.Votes, vote)
		return nil
	})
	if err != nil {
		return st, corruptOnDecode(err)
	}
	err = rawdb.ReadOffences(s.db, func(v []byte) error {
		votes, err := types.DecodeVotes(v)
		if err != nil {
			return errDecode{err}
		}
		if len(votes) == 2 {
			kind := "double_vote"
			if votes[0].Target.Epoch != votes[1].Target.Epoch {
				kind = "surround_vote"
			}
			st.Offences = append(st.Offences, consensus.Offence{Kind: kind, Voter: votes[1].Voter, A: votes[0], B: votes[1]})
		}
		return nil
	})
	return st, corruptOnDecode(err)
}

// LastVote returns this validator's last signed vote.
func (s *VoteStore) LastVote() (*types.Vote, error) {
	raw, err := rawdb.ReadLastVote(s.db)
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
	return s.write(true, func(w rawdb.Writer) { rawdb.WriteLastVote(w, v) })
}
