package apitest

import (
	"ccoin/api"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

// AccountProof proves a against a real sparse Merkle tree of the final
// state, with the final block's certificate. The fake's headers carry a
// stand-in state root, so the shape of the answer is real but the Merkle
// proof does not verify against the certified header.
func (f *Fake) AccountProof(a crypto.Address) (api.AccountProof, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noCert {
		return api.AccountProof{}, api.ErrProofUnavailable
	}
	st := f.states[f.finalized]
	store := smt.NewMemStore()
	ups := make([]smt.Update, 0, len(st))
	for addr, acc := range st {
		ups = append(ups, smt.Update{Key: addr, Value: acc.Encode(nil)})
	}
	tree := smt.New(store, 0)
	root, err := tree.Update(smt.Hash{}, ups, store)
	if err != nil {
		return api.AccountProof{}, err
	}
	_, found, proof, err := tree.Prove(root, a)
	if err != nil {
		return api.AccountProof{}, err
	}
	fin := f.chain[f.finalized-1]
	p := api.AccountProof{Address: a, Found: found, Block: fin.Header.Number, BlockID: fin.ID(), StateRoot: root}
	if found {
		p.Balance, p.Nonce = st[a].Balance, st[a].Nonce
	}
	for _, s := range proof.Siblings {
		p.Siblings = append(p.Siblings, types.Hash(s))
	}
	if proof.Leaf != nil {
		k := crypto.Address(proof.Leaf.Key)
		p.LeafKey, p.LeafValue = &k, proof.Leaf.Value
	}
	p.Certificate = f.certLocked()
	return p, nil
}
