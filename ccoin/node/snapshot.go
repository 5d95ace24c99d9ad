package node

import (
	"errors"
	"fmt"

	"ccoin/api"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/snapshot"
	"ccoin/ccoin/types"
)

// AccountProof implements api.Backend: the account at the finalized block
// with its state and finality proofs (see package snapshot).
func (b backend) AccountProof(a crypto.Address) (api.AccountProof, error) {
	p, err := snapshot.ProveAccount(b.n.chain, b.n.g, a)
	if errors.Is(err, snapshot.ErrUnavailable) {
		return api.AccountProof{}, fmt.Errorf("%w: %v", api.ErrProofUnavailable, err)
	}
	if err != nil {
		return api.AccountProof{}, err
	}
	h := &p.Headers[0].Header
	out := api.AccountProof{Address: a, Found: p.Found, Balance: p.Account.Balance, Nonce: p.Account.Nonce,
		Block: h.Number, BlockID: p.Headers[0].ID(), StateRoot: h.StateRoot}
	for _, s := range p.Proof.Siblings {
		out.Siblings = append(out.Siblings, types.Hash(s))
	}
	if p.Proof.Leaf != nil {
		k := crypto.Address(p.Proof.Leaf.Key)
		out.LeafKey, out.LeafValue = &k, p.Proof.Leaf.Value
	}
	for i := range p.Headers {
		out.Headers = append(out.Headers, p.Headers[i].Encode())
	}
	return out, nil
}
