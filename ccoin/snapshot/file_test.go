package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// exportFile writes tc's finalized state to a file in t's temp dir.
func exportFile(t *testing.T, tc *testChain, per int) (string, *Manifest) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.snap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	m, err := Export(f, tc.c, tc.g, tc.ffg.Certificate(), Options{ChunkAccounts: per, Progress: func(n uint64) { last = n }})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if last != m.Accounts {
		t.Fatalf("progress ended at %d of %d", last, m.Accounts)
	}
	return path, m
}

func TestSnapshotRoundTrip(t *testing.T) {
	tc := newTestChain(t, 7, 2500)
	tc.sealN(5, true)
	tc.finalize()
	final, finalID := tc.c.Finalized()
	path, m := exportFile(t, tc, 1000)
	if m.Accounts < 2500 || len(m.Chunks) != int(m.Accounts+999)/1000 || m.StateRoot != final.StateRoot || m.BlockID != finalID {
		t.Fatalf("manifest: %d accounts in %d chunks, root %s", m.Accounts, len(m.Chunks), m.StateRoot)
	}

	db := memDB(t)
	if _, err := chain.Init(db, tc.g, []byte("{}")); err != nil { // a node that ran initc first
		t.Fatal(err)
	}
	var done uint64
	if _, err := Import(db, tc.g, []byte("{}"), path, func(d, total uint64) { done = d }); err != nil {
		t.Fatal(err)
	}
	if done != m.Accounts {
		t.Fatalf("progress ended at %d of %d", done, m.Accounts)
	}
	c, _ := openChain(t, db, tc.g)
	head, headID := c.Head()
	fin, finID := c.Finalized()
	if headID != finalID || finID != finalID || head.StateRoot != final.StateRoot || fin.Number != final.Number {
		t.Fatalf("imported head %d %s, want %d %s", head.Number, headID, final.Number, finalID)
	}
	// Every account, in the tree and in the flat table, equals the source.
	n := 0
	err := tc.c.Tree().Iterate(final.StateRoot, func(k [20]byte, v []byte) error {
		want, _ := types.DecodeAccount(v)
		got, err := c.AccountAt(head.StateRoot, k)
		if err != nil || got != want {
			t.Fatalf("account %x: tree %+v (%v), want %+v", k, got, err, want)
		}
		if flat, _ := c.Account(k); flat != want {
			t.Fatalf("account %x: flat %+v, want %+v", k, flat, want)
		}
		n++
		return nil
	})
	if err != nil || uint64(n) != m.Accounts {
		t.Fatalf("iterated %d: %v", n, err)
	}
	// Blocks below the snapshot are absent, not corrupt.
	if _, err := c.BlockByNumber(2); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("block 2: %v", err)
	}
	if _, err := c.BlockByNumber(final.Number); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("base block: %v", err)
	}
	// Normal sync continues from the snapshot height.
	srcHead, _ := tc.c.Head()
	for num := final.Number + 1; num <= srcHead.Number; num++ {
		b, err := tc.c.BlockByNumber(num)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ImportBlock(b, nil); err != nil {
			t.Fatalf("import block %d after snapshot: %v", num, err)
		}
	}
	tc.sealN(3, true)
	for num := srcHead.Number + 1; num <= srcHead.Number+3; num++ {
		b, _ := tc.c.BlockByNumber(num)
		if _, err := c.ImportBlock(b, nil); err != nil {
			t.Fatalf("import block %d after snapshot: %v", num, err)
		}
	}
	h1, id1 := c.Head()
	h2, id2 := tc.c.Head()
	if id1 != id2 || h1.StateRoot != h2.StateRoot {
		t.Fatal("snapshot node diverged from the source")
	}
	// A reopened snapshot chain passes the consistency check and can prove
	// accounts and export snapshots of its own.
	// The certificate came with the snapshot: the seeded node's gadget
	// loads it and it certifies the chain's final block.
	c, ffg := openChain(t, db, tc.g)
	p, err := ProveAccount(c, ffg.Certificate(), keys(t)[3].Address())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyAccount(tc.g, p); err != nil {
		t.Fatal(err)
	}
	// Seeding a chain that already has blocks is refused.
	if _, err := Import(db, tc.g, []byte("{}"), path, nil); !errors.Is(err, chain.ErrNotEmpty) {
		t.Fatalf("import over a chain: %v", err)
	}
}

// TestSnapshotOfSnapshotBase: a node seeded from a snapshot serves one of
// its base before its own finality moved on (the base's seal is kept).
func TestSnapshotOfSnapshotBase(t *testing.T) {
	tc := newTestChain(t, 7, 20)
	tc.sealN(4, false)
	tc.finalize()
	path, m := exportFile(t, tc, 0)
	db := memDB(t)
	if _, err := Import(db, tc.g, []byte("{}"), path, nil); err != nil {
		t.Fatal(err)
	}
	c, ffg := openChain(t, db, tc.g)
	// Blocks after the base do not change what is final: the certificate
	// that came with the snapshot still certifies the base.
	final, _ := tc.c.Finalized()
	for num := final.Number + 1; ; num++ {
		b, err := tc.c.BlockByNumber(num)
		if err != nil {
			break
		}
		if _, err := c.ImportBlock(b, nil); err != nil {
			t.Fatal(err)
		}
	}
	tc2 := &testChain{t: t, g: tc.g, db: db, c: c, ffg: ffg}
	_, m2 := exportFile(t, tc2, 0)
	if m2.StateRoot == (types.Hash{}) || m2.Number < m.Number {
		t.Fatalf("second snapshot at %d", m2.Number)
	}
}

// writeSnapshot writes a file from a manifest and chunk encodings.
func writeSnapshot(t *testing.T, m *Manifest, chunks [][]byte) string {
	t.Helper()
	var b bytes.Buffer
	b.Write(magic[:])
	for _, c := range chunks {
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(c))))
		b.Write(c)
	}
	enc := m.Encode()
	b.Write(enc)
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(enc))))
	b.Write(magic[:])
	path := filepath.Join(t.TempDir(), "forged.snap")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readChunks(t *testing.T, path string) (*Manifest, [][]byte) {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	if err := f.Chunks(func(c *Chunk) error { out = append(out, c.Encode()); return nil }); err != nil {
		t.Fatal(err)
	}
	return f.Manifest, out
}

func TestSnapshotRefused(t *testing.T) {
	tc := newTestChain(t, 7, 300)
	tc.sealN(3, true)
	early := tc.finalize()
	tc.sealN(3, true)
	tc.finalize()
	path, _ := exportFile(t, tc, 100)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, chunks := readChunks(t, path)
	other := newTestChain(t, 8, 300)
	other.sealN(4, false)
	otherCert := other.finalize()
	otherPath, _ := exportFile(t, other, 100)
	outsider := keys(t)[4]

	// rechunk re-hashes tampered chunks into the manifest: only the root
	// check can catch it.
	rechunk := func(tamper func(c *Chunk)) string {
		var encs [][]byte
		mm := *m
		mm.Chunks = nil
		for i, e := range chunks {
			c, err := decodeChunk(e)
			if err != nil {
				t.Fatal(err)
			}
			if i == 1 {
				tamper(c)
			}
			enc := c.Encode()
			encs = append(encs, enc)
			mm.Chunks = append(mm.Chunks, ChunkHash(enc))
		}
		return writeSnapshot(t, &mm, encs)
	}
	bytesFile := func(b []byte) string {
		p := filepath.Join(t.TempDir(), "bad.snap")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flip := func(off int) string {
		b := bytes.Clone(raw)
		b[off] ^= 0x40
		return bytesFile(b)
	}
	withManifest := func(f func(m *Manifest)) string {
		mm := *m
		mm.Cert = cloneCert(m.Cert)
		f(&mm)
		return writeSnapshot(t, &mm, chunks)
	}

	cases := []struct {
		name string
		path string
		want error
	}{
		{"corrupted chunk byte", flip(8 + 4 + 17 + 5), ErrBadChunk},
		{"corrupted chunk length", flip(8 + 1), ErrBadChunk},
		{"truncated file", bytesFile(raw[:len(raw)-5]), ErrFormat},
		{"truncated chunk", writeSnapshot(t, m, append(append([][]byte{}, chunks[:1]...), chunks[1][:len(chunks[1])-36])), ErrBadChunk},
		{"missing chunk", writeSnapshot(t, m, chunks[:len(chunks)-1]), ErrBadChunk},
		{"extra data", writeSnapshot(t, m, append(append([][]byte{}, chunks...), chunks[0])), ErrBadChunk},
		{"chunks swapped", writeSnapshot(t, m, append([][]byte{chunks[1], chunks[0]}, chunks[2:]...)), ErrBadChunk},
		{"wrong root: tampered balance", rechunk(func(c *Chunk) { c.Accounts[3].Balance++ }), ErrBadRoot},
		{"dropped account", rechunk(func(c *Chunk) {
			c.Addrs, c.Accounts = append(c.Addrs[:5], c.Addrs[6:]...), append(c.Accounts[:5], c.Accounts[6:]...)
		}), ErrBadChunk},
		{"wrong root: replaced account", rechunk(func(c *Chunk) { c.Addrs[5][19] ^= 1 }), nil},
		{"snapshot of another chain", otherPath, ErrBadHeader},
		{"certificate of an earlier final block", withManifest(func(m *Manifest) { m.Cert = cloneCert(early) }), consensus.CheckHeaderID},
		{"forged seal", withManifest(func(m *Manifest) { m.Sealed.SealerKey = outsider.Public().DER() }), ErrBadSeal},
		{"format version 1", func() string {
			b := bytes.Clone(raw)
			b[len(raw)-footerLen-len(m.Encode())] = 1
			return bytesFile(b)
		}(), ErrVersion},
		{"not a snapshot", bytesFile([]byte("hello world, this is not a snapshot file")), ErrFormat},
	}
	for _, f := range certForgeries(t, tc, otherCert) {
		cases = append(cases, struct {
			name string
			path string
			want error
		}{"certificate: " + f.name, withManifest(func(m *Manifest) { f.tamper(m.Cert) }), f.check})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := memDB(t)
			_, err := Import(db, tc.g, []byte("{}"), c.path, nil)
			if err == nil {
				t.Fatal("forged snapshot imported")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			// Nothing was made head: the database is still a genesis chain
			// (or empty), and an honest import still works.
			if _, err := Import(db, tc.g, []byte("{}"), path, nil); err != nil {
				t.Fatalf("honest import after a refused one: %v", err)
			}
		})
	}
}

func TestChunkLimits(t *testing.T) {
	m := &Manifest{Number: 5, ChunkAccounts: 2, Accounts: 3}
	c0 := (&Chunk{Number: 5, Index: 0, Addrs: []crypto.Address{{1}, {2}}, Accounts: make([]types.Account, 2)}).Encode()
	c1 := (&Chunk{Number: 5, Index: 1, Addrs: []crypto.Address{{3}}, Accounts: make([]types.Account, 1)}).Encode()
	m.Chunks = []types.Hash{ChunkHash(c0), ChunkHash(c1)}
	stray := (&Chunk{Number: 6, Index: 0, Addrs: []crypto.Address{{1}, {2}}, Accounts: make([]types.Account, 2)}).Encode()
	unordered := (&Chunk{Number: 5, Index: 0, Addrs: []crypto.Address{{2}, {1}}, Accounts: make([]types.Account, 2)}).Encode()
	cases := []struct {
		name  string
		index int
		enc   []byte
		hash  bool // put enc's hash in the manifest first
		ok    bool
	}{
		{"first", 0, c0, false, true},
		{"last", 1, c1, false, true},
		{"index out of range", 2, c1, false, false},
		{"negative index", -1, c1, false, false},
		{"wrong index", 1, c0, false, false},
		{"truncated", 0, c0[:len(c0)-1], true, false},
		{"empty", 0, nil, true, false},
		{"stray chunk of another block", 0, stray, true, false},
		{"unordered", 0, unordered, true, false},
		{"short last chunk claimed full", 1, c0, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mm := *m
			mm.Chunks = append([]types.Hash(nil), m.Chunks...)
			if c.hash {
				mm.Chunks[c.index] = ChunkHash(c.enc)
			}
			_, err := mm.VerifyChunk(c.index, c.enc)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v", err)
			}
			if err != nil && !errors.Is(err, ErrBadChunk) {
				t.Fatalf("error kind: %v", err)
			}
		})
	}
}

func TestManifestDecodeRefusesGarbage(t *testing.T) {
	tc := newTestChain(t, 7, 10)
	tc.sealN(3, false)
	tc.finalize()
	_, m := exportFile(t, tc, 0)
	enc := m.Encode()
	if _, err := DecodeManifest(enc); err != nil {
		t.Fatal(err)
	}
	for cut := 0; cut < len(enc); cut += 7 {
		if _, err := DecodeManifest(enc[:cut]); !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated at %d: %v", cut, err)
		}
	}
	bad := bytes.Clone(enc)
	binary.BigEndian.PutUint64(bad[1+32+8+32+32:], m.Accounts+100_000) // account count off the chunk list
	if _, err := DecodeManifest(bad); !errors.Is(err, ErrFormat) {
		t.Fatalf("miscounted manifest: %v", err)
	}
	// A version-1 manifest (finality by sealed headers) is refused with a
	// message that says what to do, never misread.
	old := bytes.Clone(enc)
	old[0] = 1
	_, err := DecodeManifest(old)
	if !errors.Is(err, ErrVersion) || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "export a new snapshot") {
		t.Fatalf("version 1 manifest: %v", err)
	}
}
