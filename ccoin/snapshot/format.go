package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

// Snapshot format errors.
var (
	// ErrFormat: a manifest or chunk is malformed, truncated or oversized.
	ErrFormat = errors.New("malformed snapshot")
	// ErrBadChunk: a chunk does not hash to the manifest's entry, or its
	// accounts are out of order or miscounted.
	ErrBadChunk = errors.New("snapshot chunk does not verify")
	// ErrBadRoot: the accounts do not rebuild the header's state root.
	ErrBadRoot = errors.New("snapshot state root does not verify")
)

const (
	// DefaultChunkAccounts is the default number of accounts per chunk
	// (about 360 KB, far under the P2P frame limit).
	DefaultChunkAccounts = 10_000
	// MaxChunkAccounts bounds a chunk (about 3.6 MB, under the 4 MiB frame).
	MaxChunkAccounts = 100_000
	// MaxManifest bounds an encoded manifest (as wire.MaxManifest does).
	MaxManifest = 1 << 20

	version      = 1
	accountLen   = crypto.AddressLen + 8 + 8
	chunkHdrLen  = 1 + 8 + 4 + 4
	maxChunkLen  = chunkHdrLen + MaxChunkAccounts*accountLen
	manifestHead = 1 + 32 + 8 + 32 + 32 + 8 + 4 + 2
)

// Manifest describes a snapshot: the finalized block it was taken at, with
// the headers that prove its finality, and the hash of every chunk.
type Manifest struct {
	ChainID       types.Hash
	Number        uint64
	BlockID       types.Hash
	StateRoot     types.Hash
	Accounts      uint64 // total accounts in the state
	ChunkAccounts uint32 // accounts per chunk; the last may hold fewer
	Headers       []SealedHeader
	Chunks        []types.Hash // SHA-256 of each chunk encoding, in order
}

// Encode is: version(1) chain_id(32) number(8) block_id(32) state_root(32)
// accounts(8) chunk_accounts(4) n_headers(2) {len(4) sealed header}*
// n_chunks(4) {hash(32)}*, integers big-endian.
func (m *Manifest) Encode() []byte {
	var b []byte
	b = append(b, version)
	b = append(b, m.ChainID[:]...)
	b = binary.BigEndian.AppendUint64(b, m.Number)
	b = append(b, m.BlockID[:]...)
	b = append(b, m.StateRoot[:]...)
	b = binary.BigEndian.AppendUint64(b, m.Accounts)
	b = binary.BigEndian.AppendUint32(b, m.ChunkAccounts)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Headers)))
	for i := range m.Headers {
		e := m.Headers[i].Encode()
		b = binary.BigEndian.AppendUint32(b, uint32(len(e)))
		b = append(b, e...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Chunks)))
	for _, h := range m.Chunks {
		b = append(b, h[:]...)
	}
	return b
}

// DecodeManifest parses a manifest and checks that it is self-consistent
// (its block fields match its first header, the chunk count matches the
// account count). It does not verify seals or finality: see Verify.
func DecodeManifest(p []byte) (*Manifest, error) {
	if len(p) > MaxManifest {
		return nil, fmt.Errorf("%w: manifest of %d bytes", ErrFormat, len(p))
	}
	if len(p) < manifestHead || p[0] != version {
		return nil, fmt.Errorf("%w: manifest header", ErrFormat)
	}
	m := &Manifest{}
	r := p[1:]
	copy(m.ChainID[:], r[:32])
	m.Number = binary.BigEndian.Uint64(r[32:])
	copy(m.BlockID[:], r[40:72])
	copy(m.StateRoot[:], r[72:104])
	m.Accounts = binary.BigEndian.Uint64(r[104:])
	m.ChunkAccounts = binary.BigEndian.Uint32(r[112:])
	nh := int(binary.BigEndian.Uint16(r[116:]))
	r = r[118:]
	if nh == 0 || nh > MaxFinalityHeaders {
		return nil, fmt.Errorf("%w: %d headers", ErrFormat, nh)
	}
	m.Headers = make([]SealedHeader, 0, min(nh, 64))
	for i := 0; i < nh; i++ {
		if len(r) < 4 {
			return nil, fmt.Errorf("%w: truncated header %d", ErrFormat, i)
		}
		n := binary.BigEndian.Uint32(r)
		if uint64(n) > uint64(len(r)-4) || n > maxSealedHeader {
			return nil, fmt.Errorf("%w: header %d of %d bytes", ErrFormat, i, n)
		}
		s, err := DecodeSealedHeader(r[4 : 4+n])
		if err != nil {
			return nil, fmt.Errorf("%w: header %d: %w", ErrFormat, i, err)
		}
		m.Headers = append(m.Headers, s)
		r = r[4+n:]
	}
	if len(r) < 4 {
		return nil, fmt.Errorf("%w: truncated chunk list", ErrFormat)
	}
	nc := uint64(binary.BigEndian.Uint32(r))
	r = r[4:]
	if uint64(len(r)) != nc*32 {
		return nil, fmt.Errorf("%w: %d chunk hashes in %d bytes", ErrFormat, nc, len(r))
	}
	m.Chunks = make([]types.Hash, nc)
	for i := range m.Chunks {
		copy(m.Chunks[i][:], r[i*32:])
	}
	if m.ChunkAccounts == 0 || m.ChunkAccounts > MaxChunkAccounts {
		return nil, fmt.Errorf("%w: %d accounts per chunk", ErrFormat, m.ChunkAccounts)
	}
	if want := (m.Accounts + uint64(m.ChunkAccounts) - 1) / uint64(m.ChunkAccounts); want != nc {
		return nil, fmt.Errorf("%w: %d accounts need %d chunks, manifest lists %d", ErrFormat, m.Accounts, want, nc)
	}
	h := &m.Headers[0].Header
	if h.Number != m.Number || m.Headers[0].ID() != m.BlockID || h.StateRoot != m.StateRoot ||
		(h.Number > 1 && h.ChainID != m.ChainID) {
		return nil, fmt.Errorf("%w: manifest fields disagree with its block header", ErrFormat)
	}
	return m, nil
}

// Verify checks the manifest against g: the chain id and the finality of
// its block under the genesis miners and quorum.
func (m *Manifest) Verify(g *genesis.Genesis) error {
	if m.ChainID != g.ChainID {
		return fmt.Errorf("%w: snapshot of chain %s, this genesis is %s", ErrBadHeader, m.ChainID, g.ChainID)
	}
	if m.Number < 2 {
		return fmt.Errorf("%w: a snapshot of the genesis block is pointless", ErrFormat)
	}
	_, id, err := VerifyFinality(g, m.Headers)
	if err != nil {
		return err
	}
	if id != m.BlockID {
		return fmt.Errorf("%w: manifest block id", ErrBadHeader)
	}
	return nil
}

// Chunk is a run of accounts in strictly increasing address order. Its
// encoding names the block and its index, so a stray chunk is recognised:
// version(1) number(8) index(4) count(4) {address(20) balance(8) nonce(8)}*.
type Chunk struct {
	Number   uint64
	Index    uint32
	Addrs    []crypto.Address
	Accounts []types.Account
}

// Encode returns the chunk encoding.
func (c *Chunk) Encode() []byte {
	b := make([]byte, 0, chunkHdrLen+len(c.Addrs)*accountLen)
	b = append(b, version)
	b = binary.BigEndian.AppendUint64(b, c.Number)
	b = binary.BigEndian.AppendUint32(b, c.Index)
	b = binary.BigEndian.AppendUint32(b, uint32(len(c.Addrs)))
	for i, a := range c.Addrs {
		b = append(b, a[:]...)
		b = binary.BigEndian.AppendUint64(b, c.Accounts[i].Balance)
		b = binary.BigEndian.AppendUint64(b, c.Accounts[i].Nonce)
	}
	return b
}

// ChunkHash is the hash a manifest lists for a chunk encoding.
func ChunkHash(enc []byte) types.Hash { return sha256.Sum256(enc) }

// VerifyChunk checks a received chunk encoding against the manifest entry
// index and decodes it: its hash, its block number and index, its account
// count (full chunks but the last) and the order of its addresses.
func (m *Manifest) VerifyChunk(index int, enc []byte) (*Chunk, error) {
	if index < 0 || index >= len(m.Chunks) {
		return nil, fmt.Errorf("%w: chunk %d of %d", ErrBadChunk, index, len(m.Chunks))
	}
	if len(enc) > maxChunkLen {
		return nil, fmt.Errorf("%w: chunk %d of %d bytes", ErrBadChunk, index, len(enc))
	}
	if ChunkHash(enc) != m.Chunks[index] {
		return nil, fmt.Errorf("%w: chunk %d hash mismatch", ErrBadChunk, index)
	}
	c, err := decodeChunk(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: chunk %d: %w", ErrBadChunk, index, err)
	}
	want := uint64(m.ChunkAccounts)
	if index == len(m.Chunks)-1 {
		want = m.Accounts - uint64(index)*uint64(m.ChunkAccounts)
	}
	if c.Number != m.Number || int(c.Index) != index || uint64(len(c.Addrs)) != want {
		return nil, fmt.Errorf("%w: chunk %d claims block %d index %d with %d accounts", ErrBadChunk, index, c.Number, c.Index, len(c.Addrs))
	}
	return c, nil
}

func decodeChunk(p []byte) (*Chunk, error) {
	if len(p) < chunkHdrLen || p[0] != version {
		return nil, fmt.Errorf("%w: chunk header", ErrFormat)
	}
	c := &Chunk{Number: binary.BigEndian.Uint64(p[1:]), Index: binary.BigEndian.Uint32(p[9:])}
	n := binary.BigEndian.Uint32(p[13:])
	body := p[chunkHdrLen:]
	if n > MaxChunkAccounts || uint64(len(body)) != uint64(n)*accountLen {
		return nil, fmt.Errorf("%w: %d accounts in %d bytes", ErrFormat, n, len(body))
	}
	c.Addrs = make([]crypto.Address, n)
	c.Accounts = make([]types.Account, n)
	for i := range c.Addrs {
		e := body[i*accountLen:]
		copy(c.Addrs[i][:], e[:crypto.AddressLen])
		c.Accounts[i] = types.Account{
			Balance: binary.BigEndian.Uint64(e[crypto.AddressLen:]),
			Nonce:   binary.BigEndian.Uint64(e[crypto.AddressLen+8:]),
		}
		if i > 0 && bytes.Compare(c.Addrs[i-1][:], c.Addrs[i][:]) >= 0 {
			return nil, fmt.Errorf("%w: addresses out of order at %d", ErrFormat, i)
		}
	}
	return c, nil
}
