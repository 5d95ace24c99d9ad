package node

import (
	"errors"
	"fmt"

	"ccoin/api"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/snapshot"
	"ccoin/ccoin/types"
)

// AccountProof implements api.Reader: the account at the final block with
// its state proof and that block's finality certificate (see package
// snapshot), only while the gadget's certificate is of the chain's final
// block.
func (b *apiReader) AccountProof(a crypto.Address) (api.AccountProof, error) {
	p, err := snapshot.ProveAccount(b.chain, b.ffg.Certificate(), a)
	if errors.Is(err, snapshot.ErrUnavailable) {
		return api.AccountProof{}, fmt.Errorf("%w: %v", api.ErrProofUnavailable, err)
	}
	if err != nil {
		return api.AccountProof{}, err
	}
	h := &p.Cert.Header
	out := api.AccountProof{Address: a, Found: p.Found, Balance: p.Account.Balance, Nonce: p.Account.Nonce,
		Block: h.Number, BlockID: h.ID(), StateRoot: h.StateRoot, Certificate: p.Cert}
	for _, s := range p.Proof.Siblings {
		out.Siblings = append(out.Siblings, types.Hash(s))
	}
	if p.Proof.Leaf != nil {
		k := crypto.Address(p.Proof.Leaf.Key)
		out.LeafKey, out.LeafValue = &k, p.Proof.Leaf.Value
	}
	return out, nil
}
