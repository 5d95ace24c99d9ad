package snapshot

import (
	"bytes"
	"ccoin/ccoin/genesis/genesistest"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

var update = flag.Bool("update", false, "rewrite testdata/snapshot-vectors.json (deterministic)")

const snapshotVectorsPath = "../../testdata/snapshot-vectors.json"

// SnapshotVectors is testdata/snapshot-vectors.json (PROTOCOL.md,
// "Snapshots"): a snapshot of block 2 of the devnet genesis of
// testdata/genesis-vectors.json, in chunks of two accounts.
type SnapshotVectors struct {
	Comment       string          `json:"comment"`
	ChainID       string          `json:"chain_id"`
	Number        uint64          `json:"number"`
	BlockID       string          `json:"block_id"`
	StateRoot     string          `json:"state_root"`
	Accounts      uint64          `json:"accounts"`
	ChunkAccounts uint32          `json:"chunk_accounts"`
	SealedHeader  string          `json:"sealed_header_hex"`
	Certificate   string          `json:"certificate_hex"`
	Chunks        []SnapshotChunk `json:"chunks"`
	Manifest      string          `json:"manifest_hex"`
	File          string          `json:"file_hex"`
}

// SnapshotChunk is one chunk with its accounts, encoding and hash.
type SnapshotChunk struct {
	Index    uint32           `json:"index"`
	Accounts []ChunkAccountJS `json:"accounts"`
	Encoding string           `json:"encoding_hex"`
	Hash     string           `json:"hash"`
}

// ChunkAccountJS is one account of a chunk.
type ChunkAccountJS struct {
	Address string `json:"address"`
	Balance uint64 `json:"balance"`
	Nonce   uint64 `json:"nonce"`
}

// vectorBlock seals an empty block at slot on parent, crediting the reward
// to the leader in accounts, with the given keys (the devnet miners).
func vectorBlock(t *testing.T, g *genesis.Genesis, keys []*crypto.PrivateKey, parent *types.Header, parentID types.Hash,
	slot uint64, accounts map[crypto.Address]types.Account) SealedHeader {
	k := keys[slot%uint64(len(keys))]
	a := accounts[k.Address()]
	a.Balance += g.File.BlockMining.Reward
	accounts[k.Address()] = a
	store := smt.NewMemStore()
	var ups []smt.Update
	for addr, acc := range accounts {
		ups = append(ups, smt.Update{Key: addr, Value: acc.Encode(nil)})
	}
	root, err := smt.New(store, 0).Update(types.Hash{}, ups, store)
	if err != nil {
		t.Fatal(err)
	}
	h := types.Header{Version: types.HeaderVersion, ChainID: g.ChainID, Number: parent.Number + 1, Parent: parentID,
		Slot: slot, Time: g.TimeMs + slot*g.IntervalMs + 1, Sealer: k.Address(), StateRoot: root,
		Reward: g.File.BlockMining.Reward, Difficulty: g.File.BlockMining.Difficulty}
	h.Mine(0, nil)
	return SealedHeader{Header: h, SealerKey: k.Public().DER(), Signature: cryptotest.SignDeterministic(k, h.ID())}
}

func makeSnapshotVectors(t *testing.T) SnapshotVectors {
	g := genesistest.VectorGenesis(t)
	keys := cryptotest.VectorKeys(t)[1:]
	for i, k := range keys {
		if g.Miners[i] != k.Address() {
			t.Fatal("vector keys are not the devnet miners")
		}
	}
	accounts := make(map[crypto.Address]types.Account)
	for a, acc := range g.Alloc {
		accounts[a] = acc
	}
	// Block 2 at slot 1 (miner 1), block 3 at slot 2 (miner 2); the three
	// miners' votes for the link (1, block 2) -> (2, block 3) make block 2
	// final.
	b2 := vectorBlock(t, g, keys, &g.Block.Header, g.ChainID, 1, accounts)
	snap := make(map[crypto.Address]types.Account, len(accounts))
	for a, acc := range accounts {
		snap[a] = acc
	}
	b3 := vectorBlock(t, g, keys, &b2.Header, b2.ID(), 2, accounts)
	cert := &types.Certificate{Header: b2.Header}
	for _, k := range keys {
		v := &types.Vote{Version: types.VoteVersion, ChainID: g.ChainID, Voter: k.Address(),
			Source: types.Checkpoint{Epoch: 1, ID: b2.ID()}, Target: types.Checkpoint{Epoch: 2, ID: b3.ID()}}
		v.VoterKey, v.Signature = k.Public().DER(), cryptotest.SignDeterministic(k, v.ID())
		cert.Votes = append(cert.Votes, v)
	}

	addrs := make([]crypto.Address, 0, len(snap))
	for a := range snap {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return bytes.Compare(addrs[i][:], addrs[j][:]) < 0 })
	const per = 2
	m := &Manifest{ChainID: g.ChainID, Number: b2.Header.Number, BlockID: b2.ID(), StateRoot: b2.Header.StateRoot,
		Accounts: uint64(len(addrs)), ChunkAccounts: per, Sealed: b2, Cert: cert}
	v := SnapshotVectors{Comment: "a snapshot of block 2 of the devnet genesis (testdata/genesis-vectors.json case 0), " +
		"see PROTOCOL.md section Snapshots. Made by `go test ./ccoin/snapshot -run TestSnapshotVectors -update`. " +
		"Blocks 2 (slot 1) and 3 (slot 2) are empty blocks sealed by their slot leaders with the devnet keys. The " +
		"manifest (format version 2) carries block 2's sealed header (its block encoding with no transactions) and " +
		"its finality certificate: block 2's header and the three miners' votes for the link (1, block 2) -> " +
		"(2, block 3), signed by cryptotest.SignDeterministic (RSA-PSS with a salt derived from the digest) so the vector is reproducible. Chunks hold two " +
		"accounts each in address order; integers in manifest and chunk are big-endian fixed width.",
		ChainID: g.ChainID.String(), Number: m.Number, BlockID: m.BlockID.String(), StateRoot: m.StateRoot.String(),
		Accounts: m.Accounts, ChunkAccounts: per}
	v.SealedHeader = hex.EncodeToString(b2.Encode())
	v.Certificate = hex.EncodeToString(cert.Encode(nil))
	var file []byte
	file = append(file, magic[:]...)
	for i := 0; i*per < len(addrs); i++ {
		c := &Chunk{Number: m.Number, Index: uint32(i)}
		sc := SnapshotChunk{Index: uint32(i)}
		for _, a := range addrs[i*per : min(len(addrs), (i+1)*per)] {
			c.Addrs = append(c.Addrs, a)
			c.Accounts = append(c.Accounts, snap[a])
			sc.Accounts = append(sc.Accounts, ChunkAccountJS{a.String(), snap[a].Balance, snap[a].Nonce})
		}
		enc := c.Encode()
		m.Chunks = append(m.Chunks, ChunkHash(enc))
		sc.Encoding, sc.Hash = hex.EncodeToString(enc), ChunkHash(enc).String()
		v.Chunks = append(v.Chunks, sc)
		file = binary.BigEndian.AppendUint32(file, uint32(len(enc)))
		file = append(file, enc...)
	}
	menc := m.Encode()
	v.Manifest = hex.EncodeToString(menc)
	file = append(file, menc...)
	file = binary.BigEndian.AppendUint32(file, uint32(len(menc)))
	file = append(file, magic[:]...)
	v.File = hex.EncodeToString(file)
	return v
}

func TestSnapshotVectors(t *testing.T) {
	want := makeSnapshotVectors(t)
	var v SnapshotVectors
	cryptotest.Golden(t, snapshotVectorsPath, want, &v, *update)

	// The manifest verifies against the genesis, every chunk against the
	// manifest, and the accounts rebuild the block's state root.
	g := genesistest.VectorGenesis(t)
	menc, _ := hex.DecodeString(v.Manifest)
	m, err := DecodeManifest(menc)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(g); err != nil {
		t.Fatal(err)
	}
	store := smt.NewMemStore()
	var ups []smt.Update
	for i, c := range v.Chunks {
		enc, _ := hex.DecodeString(c.Encoding)
		ch, err := m.VerifyChunk(i, enc)
		if err != nil {
			t.Fatal(err)
		}
		for j, addr := range ch.Addrs {
			ups = append(ups, smt.Update{Key: addr, Value: ch.Accounts[j].Encode(nil)})
		}
	}
	root, err := smt.New(store, 0).Update(types.Hash{}, ups, store)
	if err != nil || root != m.StateRoot {
		t.Fatalf("chunks rebuild root %x, manifest has %s (%v)", root, m.StateRoot, err)
	}

	// The file form opens and yields the same chunks.
	fenc, _ := hex.DecodeString(v.File)
	path := filepath.Join(t.TempDir(), "vector.snap")
	if err := os.WriteFile(path, fenc, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	if err := f.Chunks(func(*Chunk) error { n++; return nil }); err != nil || n != len(v.Chunks) {
		t.Fatalf("file chunks: %d, %v", n, err)
	}
}
