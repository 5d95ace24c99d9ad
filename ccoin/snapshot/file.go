package snapshot

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/kv"
	"ccoin/ccoin/types"
)

// The file layout: magic(8) {len(4) chunk}* manifest len(4) magic(8). The
// manifest comes last because the chunk hashes are known only once the
// state was walked; the reader finds it through the fixed-size footer.
var magic = [8]byte{'c', 'c', 'o', 'i', 'n', 's', 'n', 'p'}

const footerLen = 4 + 8

// Options tune Export.
type Options struct {
	// ChunkAccounts is the number of accounts per chunk (DefaultChunkAccounts
	// when zero).
	ChunkAccounts int
	// Progress, when set, is called after each chunk with the accounts done.
	Progress func(accounts uint64)
}

// Export writes the state of c's final block, which cert must certify
// (see FinalCert), to w as a snapshot file and returns its manifest.
func Export(w io.Writer, c Chain, g *genesis.Genesis, cert *types.Certificate, opts Options) (*Manifest, error) {
	base, err := snapshotBase(c, cert)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.Write(magic[:]); err != nil {
		return nil, err
	}
	m, err := walk(c, g, base, cert, opts, func(_ int, _ []byte, enc []byte) error {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(enc)))
		if _, err := bw.Write(l[:]); err != nil {
			return err
		}
		_, err := bw.Write(enc)
		return err
	})
	if err != nil {
		return nil, err
	}
	enc := m.Encode()
	if len(enc) > MaxManifest {
		return nil, fmt.Errorf("%w: manifest of %d bytes (use larger chunks)", ErrFormat, len(enc))
	}
	var foot [footerLen]byte
	binary.BigEndian.PutUint32(foot[:], uint32(len(enc)))
	copy(foot[4:], magic[:])
	if _, err := bw.Write(enc); err != nil {
		return nil, err
	}
	if _, err := bw.Write(foot[:]); err != nil {
		return nil, err
	}
	return m, bw.Flush()
}

// walk iterates the state of base in key order, cuts it into chunks, hands
// each encoding (and the first address in it) to emit and returns the
// manifest.
func walk(c Chain, g *genesis.Genesis, base SealedHeader, cert *types.Certificate, opts Options, emit func(index int, first []byte, enc []byte) error) (*Manifest, error) {
	per := opts.ChunkAccounts
	if per <= 0 {
		per = DefaultChunkAccounts
	}
	if per > MaxChunkAccounts {
		return nil, fmt.Errorf("%w: %d accounts per chunk, at most %d", ErrFormat, per, MaxChunkAccounts)
	}
	h := &base.Header
	m := &Manifest{ChainID: g.ChainID, Number: h.Number, BlockID: base.ID(), StateRoot: h.StateRoot,
		ChunkAccounts: uint32(per), Sealed: base, Cert: cert}
	cur := &Chunk{Number: h.Number}
	flush := func() error {
		if len(cur.Addrs) == 0 {
			return nil
		}
		enc := cur.Encode()
		first := cur.Addrs[0]
		if err := emit(len(m.Chunks), first[:], enc); err != nil {
			return err
		}
		m.Chunks = append(m.Chunks, ChunkHash(enc))
		cur = &Chunk{Number: h.Number, Index: uint32(len(m.Chunks)), Addrs: cur.Addrs[:0], Accounts: cur.Accounts[:0]}
		if opts.Progress != nil {
			opts.Progress(m.Accounts)
		}
		return nil
	}
	err := c.Tree().Iterate(h.StateRoot, func(k [20]byte, v []byte) error {
		acc, err := types.DecodeAccount(v)
		if err != nil {
			return fmt.Errorf("account %x: %w", k, err)
		}
		cur.Addrs = append(cur.Addrs, k)
		cur.Accounts = append(cur.Accounts, acc)
		m.Accounts++
		if len(cur.Addrs) == per {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, fmt.Errorf("walk state of block %d: %w", h.Number, err)
	}
	return m, nil
}

// File is an opened snapshot file.
type File struct {
	Manifest *Manifest
	f        *os.File
	end      int64 // offset of the manifest: the chunks end here
}

// Open reads a snapshot file's manifest. Nothing is verified yet beyond the
// manifest's own consistency.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	sf, err := openFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sf, nil
}

func openFile(f *os.File) (*File, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	var head [8]byte
	var foot [footerLen]byte
	if size < int64(len(head)+footerLen) {
		return nil, fmt.Errorf("%w: file of %d bytes", ErrFormat, size)
	}
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return nil, err
	}
	if _, err := f.ReadAt(foot[:], size-footerLen); err != nil {
		return nil, err
	}
	if head != magic || [8]byte(foot[4:]) != magic {
		return nil, fmt.Errorf("%w: not a ccoin snapshot (or truncated)", ErrFormat)
	}
	mlen := int64(binary.BigEndian.Uint32(foot[:]))
	if mlen > MaxManifest || mlen > size-int64(len(head)+footerLen) {
		return nil, fmt.Errorf("%w: manifest of %d bytes", ErrFormat, mlen)
	}
	enc := make([]byte, mlen)
	end := size - footerLen - mlen
	if _, err := f.ReadAt(enc, end); err != nil {
		return nil, err
	}
	m, err := DecodeManifest(enc)
	if err != nil {
		return nil, err
	}
	return &File{Manifest: m, f: f, end: end}, nil
}

// Close closes the file.
func (s *File) Close() error { return s.f.Close() }

// Chunks reads every chunk in order, verifies it against the manifest and
// passes it to fn. A chunk that is corrupted, truncated, missing or extra
// stops the walk with ErrBadChunk or ErrFormat.
func (s *File) Chunks(fn func(c *Chunk) error) error {
	r := bufio.NewReaderSize(io.NewSectionReader(s.f, 8, s.end-8), 1<<20)
	buf := make([]byte, 0, chunkHdrLen+int(s.Manifest.ChunkAccounts)*accountLen)
	for i := range s.Manifest.Chunks {
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return fmt.Errorf("%w: chunk %d: %w", ErrBadChunk, i, truncated(err))
		}
		n := binary.BigEndian.Uint32(l[:])
		if n > maxChunkLen {
			return fmt.Errorf("%w: chunk %d of %d bytes", ErrBadChunk, i, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("%w: chunk %d: %w", ErrBadChunk, i, truncated(err))
		}
		c, err := s.Manifest.VerifyChunk(i, buf)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the last chunk", ErrBadChunk)
	}
	return nil
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated: %w", io.ErrUnexpectedEOF)
	}
	return err
}

// Accounts adapts verified chunks to the chain's account source, checking
// that the chunks continue each other in address order.
func accountsOf(chunks func(fn func(c *Chunk) error) error) chain.AccountSource {
	return func(fn func(a crypto.Address, acc types.Account) error) error {
		return chunks(func(c *Chunk) error {
			for i, a := range c.Addrs {
				if err := fn(a, c.Accounts[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// Import verifies a snapshot file against g (the manifest's certificate
// under the genesis miners, every chunk against the manifest, the rebuilt state
// root against the block's header) and seeds db with it (see
// chain.ImportSnapshot). progress, when set, gets the accounts imported so far.
func Import(db kv.Store, g *genesis.Genesis, rawGenesis []byte, path string, progress func(done, total uint64)) (*Manifest, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := f.Manifest
	if err := m.Verify(g); err != nil {
		return nil, err
	}
	return m, ImportVerified(db, g, rawGenesis, m, f.Chunks, progress)
}

// ImportVerified seeds db from a manifest that passed Verify and a source
// of its chunks, each verified with VerifyChunk (as File.Chunks does), and
// stores the manifest's certificate as the node's newest, so that the
// seeded node serves proofs and snapshots of its own.
func ImportVerified(db kv.Store, g *genesis.Genesis, rawGenesis []byte, m *Manifest, chunks func(fn func(c *Chunk) error) error, progress func(done, total uint64)) error {
	var p func(uint64)
	if progress != nil {
		p = func(n uint64) { progress(n, m.Accounts) }
	}
	_, err := chain.ImportSnapshot(db, g, rawGenesis, m.Sealed.Encode(), accountsOf(chunks), p)
	if errors.Is(err, chain.ErrBadStateRoot) {
		return fmt.Errorf("%w: %w", ErrBadRoot, err)
	}
	if err != nil {
		return err
	}
	return chain.NewVoteStore(db).PutCertificate(m.Cert)
}
