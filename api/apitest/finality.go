package apitest

import (
	"ccoin/api"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// Miners are the fake's validators, in schedule order: the node and Bob
// (quorum 2). Votes are really signed, so clients can check them.
func (f *Fake) Miners() []*crypto.PrivateKey { return []*crypto.PrivateKey{f.Keys.Node, f.Keys.Bob} }

// FakeQuorum is the fake's finality quorum.
const FakeQuorum = 2

func (f *Fake) vote(k *crypto.PrivateKey, src, tgt types.Checkpoint) *types.Vote {
	v := &types.Vote{Version: types.VoteVersion, ChainID: f.ChainID, Source: src, Target: tgt, Voter: k.Address()}
	if err := v.Sign(k); err != nil {
		panic(err)
	}
	return v
}

// certLocked is the certificate of the fake's final block: both miners'
// votes from its checkpoint to the next epoch's (the next canonical block
// if there is one, else the final block itself). f.mu is held.
func (f *Fake) certLocked() *types.Certificate {
	if f.cert != nil && f.cert.Header.Number == f.finalized {
		return f.cert
	}
	fin := f.chain[f.finalized-1]
	src := types.Checkpoint{Epoch: fin.Header.Slot, ID: fin.ID()}
	tgt := types.Checkpoint{Epoch: fin.Header.Slot + 1, ID: fin.ID()}
	if int(f.finalized) < len(f.chain) {
		if next := f.chain[f.finalized]; next.Header.Slot == src.Epoch+1 {
			tgt.ID = next.ID()
		}
	}
	c := &types.Certificate{Header: fin.Header}
	for _, k := range f.Miners() {
		c.Votes = append(c.Votes, f.vote(k, src, tgt))
	}
	f.cert = c
	return c
}

// Finality implements api.FinalityReader: the certificate of the final
// block, and the head's checkpoint as justified above it when the head is
// later. SetNoCertificate makes it ErrProofUnavailable.
func (f *Fake) Finality() (api.FinalityInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noCert {
		return api.FinalityInfo{}, api.ErrProofUnavailable
	}
	out := api.FinalityInfo{Cert: f.certLocked(), Quorum: FakeQuorum, Miners: len(f.Miners())}
	if head := f.chain[len(f.chain)-1]; head.Header.Number > f.finalized {
		out.Justified = []types.Checkpoint{{Epoch: head.Header.Slot, ID: head.ID()}}
	}
	return out, nil
}

// SetNoCertificate makes Finality and AccountProof answer
// ErrProofUnavailable, as a node without a certificate does.
func (f *Fake) SetNoCertificate(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noCert = v
}

// VoteOffences implements api.FinalityReader: one double vote by Bob.
func (f *Fake) VoteOffences() []api.VoteOffence {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.offence == nil {
		bob := f.Keys.Bob
		g := types.Checkpoint{ID: f.ChainID}
		a := f.vote(bob, g, types.Checkpoint{Epoch: 2, ID: f.chain[1].ID()})
		b := f.vote(bob, g, types.Checkpoint{Epoch: 2, ID: f.side.ID()})
		f.offence = &api.VoteOffence{Kind: "double_vote", Voter: bob.Address(), A: a, B: b}
	}
	return []api.VoteOffence{*f.offence}
}

// Validators implements api.FinalityReader: the node seals and votes,
// Bob has never sealed and missed every vote.
func (f *Fake) Validators() api.ValidatorsInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	head := f.chain[len(f.chain)-1].Header.Slot
	last, vote := head, head
	return api.ValidatorsInfo{Slot: head + 1, WindowFrom: 1, WindowTo: head, Validators: []api.ValidatorInfo{
		{Address: f.Keys.Node.Address(), LastSealedSlot: &last, LastVoteEpoch: &vote, LedSlots: 2, MissedSlots: 0, Evidence: 1},
		{Address: f.Keys.Bob.Address(), LedSlots: 2, MissedSlots: 2, MissedVotes: int(head), Evidence: 1},
	}}
}
