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
	// finalized header's state root.
	ErrBadProof = errors.New("account proof does not verify")
	// ErrBadHeader: a header of a finality proof is malformed, of another
	// chain, not sealed by its slot's leader or not linked to the one before.
	ErrBadHeader = errors.New("header does not verify")
	// ErrBadSeal: a header's proof of work, sealer key or signature is wrong.
	ErrBadSeal = errors.New("header seal does not verify")
	// ErrNotFinal: the headers built on the block do not carry the quorum
	// of distinct sealers that makes it final.
	ErrNotFinal = errors.New("block is not proven final")
	// ErrUnavailable: the node cannot build a proof (yet).
	ErrUnavailable = errors.New("proof not available")
)

// MaxFinalityHeaders bounds a finality proof; rolling finality needs only
// as many blocks as it takes the quorum's leaders to seal one each.
const MaxFinalityHeaders = 1024

// maxSealedHeader bounds one sealed header encoding (header, DER key,
// signature and msgpack framing).
const maxSealedHeader = 8 << 10

// SealedHeader is a block header with its seal. Its encoding is the block
// encoding with an empty transaction list, so any ccoin block decoder reads
// it and the block id is unchanged.
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

// VerifyFinality checks that headers prove their first header final under
// g: every header is of g's chain, carries the genesis parameters, is
// sealed (proof of work, key, signature) by the leader of its slot, and
// links to the one before it (parent id, number + 1, later slot); the
// distinct sealers of all of them reach g's quorum. This is exactly the
// chain's rolling-finality rule. The genesis block is final by definition:
// its proof is its header alone, which must hash to the chain id.
//
// It returns the proven header and its id.
func VerifyFinality(g *genesis.Genesis, headers []SealedHeader) (*types.Header, types.Hash, error) {
	if len(headers) == 0 {
		return nil, types.Hash{}, fmt.Errorf("%w: no headers", ErrNotFinal)
	}
	if len(headers) > MaxFinalityHeaders {
		return nil, types.Hash{}, fmt.Errorf("%w: %d headers, at most %d", ErrBadHeader, len(headers), MaxFinalityHeaders)
	}
	first := &headers[0]
	if first.Header.Number == 1 {
		if len(headers) != 1 || first.ID() != g.ChainID || len(first.SealerKey) != 0 || len(first.Signature) != 0 {
			return nil, types.Hash{}, fmt.Errorf("%w: not this chain's genesis block", ErrBadHeader)
		}
		return &first.Header, g.ChainID, nil
	}
	sched := consensus.NewSchedule(g)
	bm := &g.File.BlockMining
	keys := crypto.NewKeyCache(2 * len(g.Miners))
	sealers := make(map[crypto.Address]struct{}, g.Quorum)
	var prevID types.Hash
	for i := range headers {
		s := &headers[i]
		h := &s.Header
		if h.ChainID != g.ChainID {
			return nil, types.Hash{}, fmt.Errorf("%w: header %d is of chain %s, not %s", ErrBadHeader, i, h.ChainID, g.ChainID)
		}
		if h.Version != types.HeaderVersion || h.Number < 2 || h.Reward != bm.Reward || h.Difficulty != bm.Difficulty {
			return nil, types.Hash{}, fmt.Errorf("%w: header %d has number %d or parameters off genesis", ErrBadHeader, i, h.Number)
		}
		if i > 0 {
			prev := &headers[i-1].Header
			if h.Parent != prevID || h.Number != prev.Number+1 || h.Slot <= prev.Slot {
				return nil, types.Hash{}, fmt.Errorf("%w: header %d does not build on header %d", ErrBadHeader, i, i-1)
			}
		}
		if !g.IsMiner(h.Sealer) || sched.Leader(h.Slot) != h.Sealer {
			return nil, types.Hash{}, fmt.Errorf("%w: header %d sealed by %s, leader of slot %d is %s", ErrBadHeader, i, h.Sealer, h.Slot, sched.Leader(h.Slot))
		}
		b := types.Block{Header: *h, SealerKey: s.SealerKey, Signature: s.Signature}
		if err := b.VerifySeal(keys); err != nil {
			return nil, types.Hash{}, fmt.Errorf("%w: header %d (block %d): %w", ErrBadSeal, i, h.Number, err)
		}
		prevID = h.ID()
		sealers[h.Sealer] = struct{}{}
	}
	if len(sealers) < g.Quorum {
		return nil, types.Hash{}, fmt.Errorf("%w: %d distinct sealers, quorum is %d", ErrNotFinal, len(sealers), g.Quorum)
	}
	return &first.Header, first.ID(), nil
}

// AccountProof proves an account's state (or its absence) in the state of
// a finalized block. Headers[0] is that block, the rest prove its finality.
type AccountProof struct {
	Address crypto.Address
	Found   bool
	Account types.Account // zero when !Found
	Proof   smt.Proof
	Headers []SealedHeader
}

// VerifyAccount checks p completely against g: the finality of Headers[0]
// and the state proof against its state_root. It returns the verified
// header; only then may Account be believed.
func VerifyAccount(g *genesis.Genesis, p *AccountProof) (*types.Header, error) {
	h, _, err := VerifyFinality(g, p.Headers)
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
	CanonicalID(n uint64) (types.Hash, error)
	Header(id types.Hash) (*types.Header, error)
	// SealedHeader is a block's header and seal, encoded as the block
	// without transactions.
	SealedHeader(id types.Hash) ([]byte, error)
	Tree() *smt.Tree
}

// FinalityHeaders returns the finalized block's sealed header followed by
// the canonical blocks built on it, up to the first at which their
// distinct sealers reach the quorum.
func FinalityHeaders(c Chain, g *genesis.Genesis) ([]SealedHeader, error) {
	final, finalID := c.Finalized()
	return finalityFrom(c, g, final, finalID)
}

func finalityFrom(c Chain, g *genesis.Genesis, final *types.Header, finalID types.Hash) ([]SealedHeader, error) {
	if final.Number == 1 {
		return []SealedHeader{{Header: *final}}, nil
	}
	sealers := make(map[crypto.Address]struct{}, g.Quorum)
	var out []SealedHeader
	id := finalID
	for n := final.Number; len(out) < MaxFinalityHeaders; n++ {
		if n > final.Number {
			var err error
			if id, err = c.CanonicalID(n); err != nil {
				return nil, fmt.Errorf("%w: finality of block %d: %w", ErrUnavailable, final.Number, err)
			}
		}
		raw, err := c.SealedHeader(id)
		if err != nil {
			return nil, fmt.Errorf("%w: block %d: %w", ErrUnavailable, n, err)
		}
		s, err := DecodeSealedHeader(raw)
		if err != nil {
			return nil, err
		}
		if n > final.Number && s.Header.Parent != out[len(out)-1].ID() {
			return nil, fmt.Errorf("%w: the chain moved while the proof was built", ErrUnavailable)
		}
		out = append(out, s)
		sealers[s.Header.Sealer] = struct{}{}
		if len(sealers) >= g.Quorum {
			return out, nil
		}
	}
	return nil, fmt.Errorf("%w: no quorum within %d blocks", ErrUnavailable, MaxFinalityHeaders)
}

// ProveAccount builds the proof of a's state at c's finalized block.
func ProveAccount(c Chain, g *genesis.Genesis, a crypto.Address) (*AccountProof, error) {
	headers, err := FinalityHeaders(c, g)
	if err != nil {
		return nil, err
	}
	root := headers[0].Header.StateRoot
	v, found, proof, err := c.Tree().Prove(root, a)
	if err != nil {
		return nil, fmt.Errorf("prove %s: %w", a, err)
	}
	p := &AccountProof{Address: a, Found: found, Proof: proof, Headers: headers}
	if found {
		if p.Account, err = types.DecodeAccount(v); err != nil {
			return nil, fmt.Errorf("decode account %s: %w", a, err)
		}
	}
	return p, nil
}
