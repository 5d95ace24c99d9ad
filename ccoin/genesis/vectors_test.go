package genesis

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"sort"
	"strings"
	"testing"

	"ccoin/ccoin/types"
)

var update = flag.Bool("update", false, "rewrite testdata/genesis-vectors.json (deterministic)")

const vectorsPath = "../../testdata/genesis-vectors.json"

// GenesisVectors is testdata/genesis-vectors.json: genesis files and the
// genesis blocks every node builds from them (PROTOCOL.md, "Genesis").
type GenesisVectors struct {
	Comment string        `json:"comment"`
	Cases   []GenesisCase `json:"cases"`
}

// GenesisCase is one genesis.json and everything derived from it.
type GenesisCase struct {
	Comment        string         `json:"comment"`
	GenesisJSON    string         `json:"genesis_json"`
	ConfigPreimage string         `json:"config_preimage"`
	ConfigHash     string         `json:"config_hash"`
	Alloc          []GenesisAlloc `json:"alloc"`
	StateRoot      string         `json:"state_root"`
	Time           uint64         `json:"time"`
	Difficulty     uint64         `json:"difficulty"`
	SealEncoding   string         `json:"seal_encoding_hex"`
	SealHash       string         `json:"seal_hash"`
	PowNonce       uint64         `json:"pow_nonce"`
	ID             string         `json:"id"`
	Encoding       string         `json:"encoding_hex"`
	Quorum         int            `json:"quorum"`
	IntervalMs     uint64         `json:"interval_ms"`
}

// GenesisAlloc is an initial account, in address order, with its state
// tree leaf.
type GenesisAlloc struct {
	Address  string `json:"address"`
	Balance  uint64 `json:"balance"`
	Nonce    uint64 `json:"nonce"`
	Value    string `json:"value_hex"`
	LeafHash string `json:"leaf_hash"`
}

var genesisInputs = []struct{ comment, json string }{
	{"the devnet genesis.json of this repository (three miners, majority finality)", `{
  "network_id": 1337,
  "timestamp": 1793577600,
  "miners": [
    "7c8a44f90148b54d014eeae26db4fe96def364de",
    "e73f9f7a6c2a42bea4f5515671259869d509441a",
    "c3c3f903f5a8e71fee7113fd4329919ba33b01e1"
  ],
  "block_mining": {
    "interval": 1,
    "max_bound": 20000,
    "min_bound": 0,
    "reward": 100,
    "difficulty": 2,
    "allow_empty": true,
    "placeholder_data": ["str", ""]
  },
  "transaction": { "placeholder_data": ["str", ""] },
  "max_peers": 32,
  "genesis_block": { "difficulty": 3 },
  "finality": "majority",
  "alloc": {
    "7c8a44f90148b54d014eeae26db4fe96def364de": { "balance": 1000000000 },
    "e73f9f7a6c2a42bea4f5515671259869d509441a": { "balance": 1000000000 },
    "c3c3f903f5a8e71fee7113fd4329919ba33b01e1": { "balance": 1000000000 }
  }
}
`},
	{"prototype-style fields: upper-case hex, a coinbase, a fractional interval (0.25 s = 250 ms), two_thirds, " +
		"an alloc with a nonce, random placeholder data (not part of the block); four miners give a quorum of 3", `{
  "network_id": 7,
  "timestamp": 1700000000,
  "miners": [
    "C3C3F903F5A8E71FEE7113FD4329919BA33B01E1",
    "7c8a44f90148b54d014eeae26db4fe96def364de",
    "e73f9f7a6c2a42bea4f5515671259869d509441a",
    "2bf83192a3055dbdfa907f7a0756dc69d22b7882"
  ],
  "block_mining": {
    "interval": 0.25,
    "max_bound": 500,
    "min_bound": 1,
    "reward": 5,
    "difficulty": 1,
    "allow_empty": false,
    "placeholder_data": ["rnd", 16]
  },
  "transaction": { "placeholder_data": null },
  "max_peers": 8,
  "genesis_block": { "difficulty": 2, "coinbase": "2BF83192A3055DBDFA907F7A0756DC69D22B7882" },
  "finality": "two_thirds",
  "alloc": {
    "2bf83192a3055dbdfa907f7a0756dc69d22b7882": { "balance": 18446744073, "nonce": 4 },
    "00112233445566778899aabbccddeeff00112233": { "balance": 1 }
  }
}
`},
	{"no alloc (empty state: state_root is 32 zero bytes), finality omitted (majority), genesis difficulty 0", `{
  "network_id": 1,
  "timestamp": 0,
  "miners": ["00112233445566778899aabbccddeeff00112233"],
  "block_mining": {"interval": 5, "max_bound": 1, "min_bound": 0, "reward": 0, "difficulty": 0, "allow_empty": true},
  "transaction": {},
  "max_peers": 1,
  "genesis_block": {"difficulty": 0},
  "alloc": {}
}
`},
}

// configPreimage rebuilds the text ConfigHash hashes, independently.
func configPreimage(g *Genesis) string {
	var b strings.Builder
	b.WriteString("ccoin-genesis-v1\n")
	b.WriteString("network_id=" + itoa(g.File.NetworkID) + "\n")
	for _, m := range g.Miners {
		b.WriteString("miner=" + m.String() + "\n")
	}
	bm := g.File.BlockMining
	b.WriteString("interval_ms=" + itoa(g.IntervalMs) + "\nmax_bound=" + itoa(bm.MaxBound) + "\nmin_bound=" + itoa(bm.MinBound) +
		"\nreward=" + itoa(bm.Reward) + "\ndifficulty=" + itoa(bm.Difficulty) + "\nallow_empty=")
	if bm.AllowEmpty {
		b.WriteString("true\n")
	} else {
		b.WriteString("false\n")
	}
	b.WriteString("finality=" + g.File.Finality + "\ncoinbase=" + strings.ToLower(g.File.GenesisBlock.Coinbase) + "\n")
	return b.String()
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var d []byte
	for ; v > 0; v /= 10 {
		d = append([]byte{byte('0' + v%10)}, d...)
	}
	return string(d)
}

func genesisCase(t *testing.T, comment, js string) GenesisCase {
	g, err := Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	h := &g.Block.Header
	c := GenesisCase{Comment: comment, GenesisJSON: js, ConfigPreimage: configPreimage(g), Alloc: []GenesisAlloc{},
		StateRoot: h.StateRoot.String(), Time: h.Time, Difficulty: h.Difficulty, SealHash: h.SealHash().String(),
		PowNonce: h.PowNonce, ID: g.ChainID.String(), Encoding: hex.EncodeToString(g.Block.Encode(nil)),
		Quorum: g.Quorum, IntervalMs: g.IntervalMs}
	ch := g.ConfigHash()
	c.ConfigHash = hex.EncodeToString(ch[:])
	// The seal encoding is the 13-element header encoding without pow_nonce
	// under a 12-element array header.
	enc := h.Encode(nil)
	nonceLen := 9
	switch n := h.PowNonce; {
	case n < 0x80:
		nonceLen = 1
	case n <= 0xff:
		nonceLen = 2
	case n <= 0xffff:
		nonceLen = 3
	case n <= 0xffffffff:
		nonceLen = 5
	}
	seal := append([]byte{0x9c}, enc[1:len(enc)-nonceLen]...)
	c.SealEncoding = hex.EncodeToString(seal)
	for a, acc := range g.Alloc {
		v := acc.Encode(nil)
		leaf := sha256.Sum256(append(append([]byte{0}, a[:]...), v...))
		c.Alloc = append(c.Alloc, GenesisAlloc{Address: a.String(), Balance: acc.Balance, Nonce: acc.Nonce,
			Value: hex.EncodeToString(v), LeafHash: hex.EncodeToString(leaf[:])})
	}
	sort.Slice(c.Alloc, func(i, j int) bool { return c.Alloc[i].Address < c.Alloc[j].Address })
	return c
}

func TestGenesisVectors(t *testing.T) {
	if *update {
		v := GenesisVectors{Comment: "genesis blocks built from genesis.json, see PROTOCOL.md section Genesis. Made by " +
			"`go test ./ccoin/genesis -run TestGenesisVectors -update`. genesis_json is the exact file; data of the genesis " +
			"header is config_hash = SHA-256(config_preimage); state_root is the state tree over alloc (values are " +
			"msgpack [balance, nonce]); pow_nonce is the smallest nonce from 0 up whose id meets the genesis difficulty; " +
			"id is the chain id."}
		for _, in := range genesisInputs {
			v.Cases = append(v.Cases, genesisCase(t, in.comment, in.json))
		}
		out, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsPath, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var v GenesisVectors
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) != len(genesisInputs) {
		t.Fatalf("%d cases, want %d", len(v.Cases), len(genesisInputs))
	}
	for _, c := range v.Cases {
		got := genesisCase(t, c.Comment, c.GenesisJSON)
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(c)
		if !bytes.Equal(a, b) {
			t.Fatalf("%s:\n got %s\nwant %s", c.Comment, a, b)
		}
		sum := sha256.Sum256([]byte(c.ConfigPreimage))
		if hex.EncodeToString(sum[:]) != c.ConfigHash {
			t.Fatalf("%s: config hash", c.Comment)
		}
		seal, _ := hex.DecodeString(c.SealEncoding)
		if sh := types.Hash(sha256.Sum256(seal)); sh.String() != c.SealHash {
			t.Fatalf("%s: seal hash", c.Comment)
		}
		enc, _ := hex.DecodeString(c.Encoding)
		blk, err := types.DecodeBlock(enc)
		if err != nil {
			t.Fatal(err)
		}
		h := blk.Header
		if blk.ID().String() != c.ID || hex.EncodeToString(h.Data) != c.ConfigHash || h.Number != 1 || h.Reward != 0 ||
			!h.ChainID.IsZero() || !h.Parent.IsZero() || !h.Sealer.IsZero() || !h.TxRoot.IsZero() || len(blk.Txs) != 0 {
			t.Fatalf("%s: genesis block fields", c.Comment)
		}
		for n := uint64(0); n < h.PowNonce; n++ {
			if types.MeetsDifficulty(types.PowHash(h.SealHash(), n), h.Difficulty) {
				t.Fatalf("%s: pow_nonce is not the smallest", c.Comment)
			}
		}
	}
}
