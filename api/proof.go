package api

import (
	"encoding/base64"
	"errors"
	"net/http"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// ErrProofUnavailable is what Reader.AccountProof and Reader.Finality
// return when the node cannot prove its final block yet: it has no
// finality certificate, or its certificate is of a block the chain has
// not made final yet.
var ErrProofUnavailable = errors.New("proof not available")

// CodeProofUnavailable answers ErrProofUnavailable, with 503.
const CodeProofUnavailable = "proof_unavailable"

// AccountProof is an account (or its absence) in the state of the final
// block, with its state proof and the block's finality certificate.
type AccountProof struct {
	Address     crypto.Address
	Found       bool
	Balance     uint64
	Nonce       uint64
	Block       uint64 // the finalized block the proof is against
	BlockID     types.Hash
	StateRoot   types.Hash
	Siblings    []types.Hash // from the root down
	LeafKey     *crypto.Address
	LeafValue   []byte // the other key's leaf ending an absence proof
	Certificate *types.Certificate
}

// AccountProofJSON is GET /accounts/{address}?proof=true.
type AccountProofJSON struct {
	Address   string         `json:"address"`
	Found     bool           `json:"found"`
	Balance   uint64         `json:"balance"`
	Nonce     uint64         `json:"nonce"`
	Block     uint64         `json:"block"`
	BlockID   string         `json:"block_id"`
	StateRoot string         `json:"state_root"`
	Siblings  []string       `json:"siblings"`
	Leaf      *ProofLeafJSON `json:"leaf,omitempty"`
	// Certificate proves the block final: its header (whose state_root the
	// proof is against) and a quorum of votes, as GET /finality gives it.
	Certificate CertificateJSON `json:"certificate"`
}

// ProofLeafJSON is another key's leaf that ends an absence proof.
type ProofLeafJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"` // base64 of the leaf value
}

// AccountProofToJSON renders p.
func AccountProofToJSON(p AccountProof) AccountProofJSON {
	j := AccountProofJSON{Address: p.Address.String(), Found: p.Found, Balance: p.Balance, Nonce: p.Nonce,
		Block: p.Block, BlockID: p.BlockID.String(), StateRoot: p.StateRoot.String(),
		Siblings: make([]string, len(p.Siblings))}
	for i, s := range p.Siblings {
		j.Siblings[i] = s.String()
	}
	if p.Certificate != nil {
		j.Certificate = CertificateToJSON(p.Certificate)
	}
	if p.LeafKey != nil {
		j.Leaf = &ProofLeafJSON{Key: p.LeafKey.String(), Value: base64.StdEncoding.EncodeToString(p.LeafValue)}
	}
	return j
}

// wantProof reads ?proof=true|false (default false).
func wantProof(r *http.Request) (bool, *Error) {
	switch v := r.URL.Query().Get("proof"); v {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	default:
		return false, errorf(http.StatusBadRequest, CodeBadRequest, "proof: want true or false, got %q", truncate(v, 40))
	}
}

func (s *readRoutes) accountProof(w http.ResponseWriter, a crypto.Address) {
	p, err := s.read.AccountProof(a)
	if err != nil { // ErrProofUnavailable: 503 proof_unavailable (toError)
		s.writeErr(w, err, CodeNotFound)
		return
	}
	p.Address = a
	writeJSON(w, http.StatusOK, AccountProofToJSON(p))
}
