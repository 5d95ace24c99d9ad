package votetest

import (
	"errors"
	"fmt"

	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

// Finalize makes block id, sealed in slot, final in f with two quorum links
// signed by miners among keys (RSA-PSS, like validators' votes): from the
// highest justified checkpoint to (e, id), then (e, id) -> (e+1, id), where e
// is slot or, if that is not above the source's epoch, the epoch after it.
// The votes keep the voting rule (no double or surround votes) across calls
// for blocks of one chain in increasing order. The caller then lets the
// chain follow (chain.Refresh).
func Finalize(f *consensus.Finality, g *genesis.Genesis, keys []*crypto.PrivateKey, id types.Hash, slot uint64) error {
	var voters []*crypto.PrivateKey
	for _, k := range keys {
		if g.IsMiner(k.Address()) && len(voters) < g.Quorum {
			voters = append(voters, k)
		}
	}
	if len(voters) < g.Quorum {
		return fmt.Errorf("votetest: %d miner keys, quorum is %d", len(voters), g.Quorum)
	}
	js := f.Justified()
	if len(js) == 0 {
		return errors.New("votetest: no justified checkpoint")
	}
	src := js[len(js)-1]
	e := max(slot, src.Epoch+1)
	target := types.Checkpoint{Epoch: e, ID: id}
	for _, l := range [][2]types.Checkpoint{{src, target}, {target, {Epoch: e + 1, ID: id}}} {
		if f.IsJustified(l[1]) {
			continue
		}
		for _, k := range voters {
			v := &types.Vote{Version: types.VoteVersion, ChainID: g.ChainID, Source: l[0], Target: l[1], Voter: k.Address()}
			if err := v.Sign(k); err != nil {
				return err
			}
			if _, err := f.AddVote(v, l[1].Epoch); err != nil && !errors.Is(err, consensus.ErrVoteKnown) {
				return fmt.Errorf("votetest: vote %s -> %s: %w", l[0], l[1], err)
			}
		}
	}
	if f.Final().ID != id {
		return fmt.Errorf("votetest: block %s not final after two quorum links (final %s)", id, f.Final())
	}
	return nil
}
