package consensus

import (
	"errors"
	"fmt"
	"sync"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// ErrNoVote means the voting rule forbids a vote now (or there is nothing
// to vote for); the validator skips the epoch. Not a failure.
var ErrNoVote = errors.New("no vote this epoch")

// VoteRecord keeps a validator's last vote durably: SaveVote must not
// return before the vote is on disk (fsync), because the vote is sent
// right after and the rule below is only as good as this record.
type VoteRecord interface {
	LastVote() (*types.Vote, error) // nil, nil before the first vote
	SaveVote(v *types.Vote) error
}

// VoteSigner signs a vote as its voter.
type VoteSigner interface {
	SignVote(v *types.Vote) error
}

// KeySigner signs votes with an account key (RSA-PSS).
type KeySigner struct{ Key *crypto.PrivateKey }

// SignVote implements VoteSigner.
func (k KeySigner) SignVote(v *types.Vote) error { return v.Sign(k.Key) }

// Voter decides a validator's votes: once per epoch, target the checkpoint
// of the epoch on its fork-choice head, source the highest justified
// checkpoint below it lying on the target's chain; never a target epoch
// not above, nor a source epoch below, those of its last vote. That rule
// rules out double and surround votes, and survives restarts through the
// VoteRecord.
type Voter struct {
	me     crypto.Address
	chain  types.Hash
	f      *Finality
	hdr    HeaderReader
	rec    VoteRecord
	signer VoteSigner

	mu   sync.Mutex
	last *types.Vote
}

// NewVoter loads the validator's last vote from rec.
func NewVoter(me crypto.Address, f *Finality, hdr HeaderReader, rec VoteRecord, signer VoteSigner) (*Voter, error) {
	last, err := rec.LastVote()
	if err != nil {
		return nil, fmt.Errorf("load last vote: %w", err)
	}
	return &Voter{me: me, chain: f.g.ChainID, f: f, hdr: hdr, rec: rec, signer: signer, last: last}, nil
}

// Last returns the validator's last vote (nil before the first).
func (v *Voter) Last() *types.Vote {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.last
}

// Vote returns the signed, durably recorded vote for epoch on the chain
// whose head is headID, or ErrNoVote.
func (v *Voter) Vote(epoch uint64, headID types.Hash) (*types.Vote, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.last != nil && epoch <= v.last.Target.Epoch {
		return nil, ErrNoVote
	}
	// Target: the head chain's last block with slot <= epoch.
	id := headID
	h, err := v.hdr.Header(id)
	if err != nil {
		return nil, err
	}
	for h.Slot > epoch {
		id = h.Parent
		if h, err = v.hdr.Header(id); err != nil {
			return nil, err
		}
	}
	target := types.Checkpoint{Epoch: epoch, ID: id}
	// Source: the highest justified checkpoint below the target's epoch
	// that lies on the target's chain.
	var source *types.Checkpoint
	js := v.f.Justified()
	for i := len(js) - 1; i >= 0; i-- {
		cp := js[i]
		if cp.Epoch >= epoch {
			continue
		}
		ch, err := v.hdr.Header(cp.ID)
		if err != nil {
			continue
		}
		if ok, err := v.f.isAncestor(cp.ID, ch, id, h); err == nil && ok {
			source = &cp
			break
		}
	}
	if source == nil {
		return nil, fmt.Errorf("%w: no justified checkpoint on the head chain below epoch %d", ErrNoVote, epoch)
	}
	if v.last != nil && source.Epoch < v.last.Source.Epoch {
		return nil, fmt.Errorf("%w: source epoch %d below last vote's %d", ErrNoVote, source.Epoch, v.last.Source.Epoch)
	}
	vote := &types.Vote{Version: types.VoteVersion, ChainID: v.chain, Source: *source, Target: target, Voter: v.me}
	if err := v.signer.SignVote(vote); err != nil {
		return nil, err
	}
	if err := v.rec.SaveVote(vote); err != nil {
		return nil, fmt.Errorf("record vote before sending it: %w", err)
	}
	v.last = vote
	return vote, nil
}
