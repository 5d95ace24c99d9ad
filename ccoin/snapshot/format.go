package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"ccoin/ccoin/consensus"
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
	// ErrVersion: a manifest of another format version (it is also an
	// ErrFormat).
	ErrVersion = fmt.Errorf("%w: unsupported snapshot version", ErrFormat)
)

const (
	// DefaultChunkAccounts is the default number of accounts per chunk
	// (about 360 KB, far under the P2P frame limit).
	DefaultChunkAccounts = 10_000
	// MaxChunkAccounts bounds a chunk (about 3.6 MB, under the 4 MiB frame).
	MaxChunkAccounts = 100_000
	// MaxManifest bounds an encoded manifest (as wire.MaxManifest does).
	MaxManifest = 1 << 20

	// ManifestVersion is the manifest format: 2 carries a finality
	// certificate; 1 carried a chain of sealed headers (the unsafe
	// rolling-finality proof) and is refused.
	ManifestVersion = 2
	// chunkVersion is the chunk format, unchanged since version 1.
	chunkVersion = 1
	accountLen   = crypto.AddressLen + 8 + 8
	chunkHdrLen  = 1 + 8 + 4 + 4
	maxChunkLen  = chunkHdrLen + MaxChunkAccounts*accountLen
	manifestHead = 1 + 32 + 8 + 32 + 32 + 8 + 4
	// maxCert bounds an encoded certificate in a manifest.
	maxCert = 512 << 10
)

// Manifest describes a snapshot: the final block it was taken at, with its
// sealed header and the finality certificate that proves it final, and the
// hash of every chunk.
type Manifest struct {
	ChainID       types.Hash
	Number        uint64
	BlockID       types.Hash
	StateRoot     types.Hash
	Accounts      uint64 // total accounts in the state
	ChunkAccounts uint32 // accounts per chunk; the last may hold fewer
	Sealed        SealedHeader
	Cert          *types.Certificate
	Chunks        []types.Hash // SHA-256 of each chunk encoding, in order
}

// Encode is: version(1)=2 chain_id(32) number(8) block_id(32)
// state_root(32) accounts(8) chunk_accounts(4) len(4) sealed header
// len(4) certificate n_chunks(4) {hash(32)}*, integers big-endian.
func (m *Manifest) Encode() []byte {
	var b []byte
	b = append(b, ManifestVersion)
	b = append(b, m.ChainID[:]...)
	b = binary.BigEndian.AppendUint64(b, m.Number)
	b = append(b, m.BlockID[:]...)
	b = append(b, m.StateRoot[:]...)
	b = binary.BigEndian.AppendUint64(b, m.Accounts)
	b = binary.BigEndian.AppendUint32(b, m.ChunkAccounts)
	e := m.Sealed.Encode()
	b = binary.BigEndian.AppendUint32(b, uint32(len(e)))
	b = append(b, e...)
	var c []byte
	if m.Cert != nil {
		c = m.Cert.Encode(nil)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(c)))
	b = append(b, c...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Chunks)))
	for _, h := range m.Chunks {
		b = append(b, h[:]...)
	}
	return b
}

// DecodeManifest parses a manifest and checks that it is self-consistent
// (its block fields match its sealed header and its certificate's header,
// the chunk count matches the account count). It does not verify seals or
// finality: see Verify. A manifest of format version 1 (finality by sealed
// headers) is refused with ErrVersion.
func DecodeManifest(p []byte) (*Manifest, error) {
	if len(p) > MaxManifest {
		return nil, fmt.Errorf("%w: manifest of %d bytes", ErrFormat, len(p))
	}
	if len(p) > 0 && p[0] != ManifestVersion {
		return nil, fmt.Errorf("%w: manifest version %d, this node reads version %d (version 1 proved finality by sealed headers, "+
			"which is no longer accepted): export a new snapshot with this version", ErrVersion, p[0], ManifestVersion)
	}
	if len(p) < manifestHead {
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
	r = r[116:]
	field := func(name string, max uint32) ([]byte, error) {
		if len(r) < 4 {
			return nil, fmt.Errorf("%w: truncated %s", ErrFormat, name)
		}
		n := binary.BigEndian.Uint32(r)
		if uint64(n) > uint64(len(r)-4) || n > max {
			return nil, fmt.Errorf("%w: %s of %d bytes", ErrFormat, name, n)
		}
		out := r[4 : 4+n]
		r = r[4+n:]
		return out, nil
	}
	raw, err := field("sealed header", maxSealedHeader)
	if err != nil {
		return nil, err
	}
	if m.Sealed, err = DecodeSealedHeader(raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if raw, err = field("certificate", maxCert); err != nil {
		return nil, err
	}
	if m.Cert, err = types.DecodeCertificate(raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
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
	h := &m.Sealed.Header
	if h.Number != m.Number || m.Sealed.ID() != m.BlockID || h.StateRoot != m.StateRoot ||
		(h.Number > 1 && h.ChainID != m.ChainID) {
		return nil, fmt.Errorf("%w: manifest fields disagree with its block header", ErrFormat)
	}
	return m, nil
}

// Verify checks the manifest against g: the chain id, the certificate
// (VerifyFinal, through consensus.VerifyCertificate) of exactly the
// manifest's block, and that block's seal (so that the importing node
// stores a block its peers accept).
func (m *Manifest) Verify(g *genesis.Genesis) error {
	if m.ChainID != g.ChainID {
		return fmt.Errorf("%w: snapshot of chain %s, this genesis is %s", ErrBadHeader, m.ChainID, g.ChainID)
	}
	if m.Number < 2 {
		return fmt.Errorf("%w: a snapshot of the genesis block is pointless", ErrFormat)
	}
	_, id, err := VerifyFinal(g, m.Cert)
	if err != nil {
		return err
	}
	if id != m.BlockID {
		return fmt.Errorf("%w: %w: the certificate is of block %s, the snapshot of %s", ErrNotFinal, consensus.CheckHeaderID, id, m.BlockID)
	}
	b := types.Block{Header: m.Sealed.Header, SealerKey: m.Sealed.SealerKey, Signature: m.Sealed.Signature}
	if err := consensus.NewEngine(g, nil).VerifySeal(&b); err != nil {
		return fmt.Errorf("%w: block %d: %w", ErrBadSeal, m.Number, err)
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
	b = append(b, chunkVersion)
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
	if len(p) < chunkHdrLen || p[0] != chunkVersion {
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
