package snapshot

import (
	"errors"
	"fmt"

	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

// Error kinds, usable with errors.Is.
var (
	// ErrBadProof: an account proof does not prove its claim against the
	// certified header's state root.
	ErrBadProof = errors.New("account proof does not verify")
	// ErrBadHeader: a sealed header is malformed, of another chain or not
	// the block it claims to be.
	ErrBadHeader = errors.New("header does not verify")
	// ErrBadSeal: a sealed header's proof of work, sealer key or signature
	// is wrong.
	ErrBadSeal = errors.New("header seal does not verify")
	// ErrNotFinal: the finality certificate does not verify (it wraps
	// consensus.ErrBadCertificate and the failed consensus.CertCheck).
	ErrNotFinal = errors.New("block is not proven final")
	// ErrUnavailable: the node cannot build a proof (yet): it has no
	// certificate for its final block.
	ErrUnavailable = errors.New("proof not available")
)

// maxSealedHeader bounds one sealed header encoding (header, DER key,
// signature and msgpack framing).
const maxSealedHeader = 8 << 10

// SealedHeader is a block header with its seal. Its encoding is the block
// encoding with an empty transaction list, so any ccoin block decoder reads
// it and the block id is unchanged. A snapshot carries its block's sealed
// header so that the importing node stores the block as its peers do.
type SealedHeader struct {
	Header    types.Header
	SealerKey []byte
	Signature []byte
}

// Seal returns b's header and seal.
func Seal(b *types.Block) SealedHeader {
	return SealedHeader{Header: b.Header, SealerKey: b.SealerKey, Signature: b.Signature}
}

// Encode returns the canonical encoding.
func (s *SealedHeader) Encode() []byte {
	b := types.Block{Header: s.Header, SealerKey: s.SealerKey, Signature: s.Signature}
	return b.Encode(nil)
}

// ID is the block id.
func (s *SealedHeader) ID() types.Hash { return s.Header.ID() }

// DecodeSealedHeader parses a sealed header and refuses one that carries
// transactions or is oversized.
func DecodeSealedHeader(p []byte) (SealedHeader, error) {
	if len(p) > maxSealedHeader {
		return SealedHeader{}, fmt.Errorf("%w: sealed header of %d bytes", ErrBadHeader, len(p))
	}
	b, err := types.DecodeBlock(p)
	if err != nil {
		return SealedHeader{}, fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	if len(b.Txs) != 0 {
		return SealedHeader{}, fmt.Errorf("%w: sealed header carries transactions", ErrBadHeader)
	}
	return Seal(b), nil
}

// VerifyFinal checks a finality certificate against g alone, through
// consensus.VerifyCertificate (every signature, every voter a miner,
// distinct voters reaching the quorum, consecutive epochs, the header's
// id), and returns the certified header and its id. It is the only
// finality check of this package.
func VerifyFinal(g *genesis.Genesis, c *types.Certificate) (*types.Header, types.Hash, error) {
	cp, err := consensus.VerifyCertificate(g, consensus.RSAVotes{Keys: crypto.NewKeyCache(2 * len(g.Miners))}, c)
	if err != nil {
		return nil, types.Hash{}, fmt.Errorf("%w: %w", ErrNotFinal, err)
	}
	// A genesis header carries no chain id: it must be this genesis.
	if c.Header.IsGenesis() && cp.ID != g.ChainID {
		return nil, types.Hash{}, fmt.Errorf("%w: %w: a genesis block other than this network's", ErrNotFinal, consensus.CheckChain)
	}
	return &c.Header, cp.ID, nil
}

// AccountProof proves an account's state (or its absence) in the state of
// a final block: Cert certifies the block, whose state_root the Merkle
// proof is against.
type AccountProof struct {
	Address crypto.Address
	Found   bool
	Account types.Account // zero when !Found
	Proof   smt.Proof
	Cert    *types.Certificate
}

// VerifyAccount checks p completely against g: the certificate, then the
// state proof against the certified header's state_root. It returns the
// verified header; only then may Account be believed.
func VerifyAccount(g *genesis.Genesis, p *AccountProof) (*types.Header, error) {
	h, _, err := VerifyFinal(g, p.Cert)
	if err != nil {
		return nil, err
	}
	var value []byte
	if p.Found {
		value = p.Account.Encode(nil)
	} else if p.Account != (types.Account{}) {
		return nil, fmt.Errorf("%w: an absent account with a balance or nonce", ErrBadProof)
	}
	if err := smt.VerifyProof(h.StateRoot, p.Address, value, p.Found, p.Proof); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadProof, err)
	}
	return h, nil
}

// Chain is what proofs and snapshots read from a node's chain.
type Chain interface {
	Finalized() (*types.Header, types.Hash)
	// SealedHeader is a block's header and seal, encoded as the block
	// without transactions.
	SealedHeader(id types.Hash) ([]byte, error)
	Tree() *smt.Tree
}

// FinalCert returns cert if it certifies c's final block, and
// ErrUnavailable otherwise: a node serves proofs and snapshots only for a
// final block it holds a certificate for (the gadget's certificate may
// run ahead of the chain while the certified block is still being
// fetched, or there may be none yet).
func FinalCert(c Chain, cert *types.Certificate) (*types.Certificate, error) {
	_, finalID := c.Finalized()
	if cert == nil {
		return nil, fmt.Errorf("%w: no finality certificate yet", ErrUnavailable)
	}
	if id := cert.Header.ID(); id != finalID {
		return nil, fmt.Errorf("%w: the certificate is of block %d %s, the chain's final block is %s", ErrUnavailable, cert.Header.Number, id, finalID)
	}
	return cert, nil
}

// ProveAccount builds the proof of a's state at c's final block, which
// cert must certify (see FinalCert).
func ProveAccount(c Chain, cert *types.Certificate, a crypto.Address) (*AccountProof, error) {
	cert, err := FinalCert(c, cert)
	if err != nil {
		return nil, err
	}
	v, found, proof, err := c.Tree().Prove(cert.Header.StateRoot, a)
	if err != nil {
		return nil, fmt.Errorf("prove %s: %w", a, err)
	}
	p := &AccountProof{Address: a, Found: found, Proof: proof, Cert: cert}
	if found {
		if p.Account, err = types.DecodeAccount(v); err != nil {
			return nil, fmt.Errorf("decode account %s: %w", a, err)
		}
	}
	return p, nil
}
