package api

import (
	"encoding/base64"
	"errors"
	"net/http"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// ErrProofUnavailable is what Backend.AccountProof returns when the node
// cannot prove its finalized block yet (for example while the blocks that
// carry its finality are still being synced).
var ErrProofUnavailable = errors.New("proof not available")

// CodeProofUnavailable answers ErrProofUnavailable, with 503.
const CodeProofUnavailable = "proof_unavailable"

// AccountProof is an account (or its absence) in the state of the
// finalized block, with its state proof and the block's finality proof.
type AccountProof struct {
	Address   crypto.Address
	Found     bool
	Balance   uint64
	Nonce     uint64
	Block     uint64 // the finalized block the proof is against
	BlockID   types.Hash
	StateRoot types.Hash
	Siblings  []types.Hash // from the root down
	LeafKey   *crypto.Address
	LeafValue []byte // the other key's leaf ending an absence proof
	Headers   [][]byte
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
	// Headers are base64 sealed headers (block encodings without
	// transactions): the finalized block, then the blocks proving its finality.
	Headers []string `json:"headers"`
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
		Siblings: make([]string, len(p.Siblings)), Headers: make([]string, len(p.Headers))}
	for i, s := range p.Siblings {
		j.Siblings[i] = s.String()
	}
	for i, h := range p.Headers {
		j.Headers[i] = base64.StdEncoding.EncodeToString(h)
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

func (s *Server) accountProof(w http.ResponseWriter, a crypto.Address) {
	p, err := s.b.AccountProof(a)
	if errors.Is(err, ErrProofUnavailable) {
		writeError(w, errorf(http.StatusServiceUnavailable, CodeProofUnavailable, "%v", err))
		return
	}
	if err != nil {
		s.writeErr(w, err, CodeNotFound)
		return
	}
	p.Address = a
	writeJSON(w, http.StatusOK, AccountProofToJSON(p))
}
