package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"

	"ccoin/api"
	"ccoin/api/apitest"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

// genesisBackend is the fake chain with its block 1 replaced by the genesis
// block a node builds from a real genesis.json.
type genesisBackend struct {
	*apitest.Fake
	g *genesis.Genesis
}

func (b genesisBackend) BlockByNumber(n uint64) (*types.Block, error) {
	if n == 1 {
		return b.g.Block, nil
	}
	return b.Fake.BlockByNumber(n)
}

func (b genesisBackend) Status() api.Status {
	s := b.Fake.Status()
	s.ChainID = b.g.ChainID.String()
	return s
}

// TestGenesisIDFromAPI recomputes the chain id from GET /blocks/1 and the
// repository's genesis.json alone, the way PROTOCOL.md tells a second
// implementation to: everything but pow_nonce comes from the file, and the
// header's data bytes are read from data_hex.
func TestGenesisIDFromAPI(t *testing.T) {
	raw, err := os.ReadFile("../genesis.json")
	if err != nil {
		t.Fatal(err)
	}
	g, err := genesis.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	f, err := apitest.NewFake()
	if err != nil {
		t.Fatal(err)
	}
	d := f.Deps()
	d.Reader = genesisBackend{f, g}
	e := newEnvWith(t, f, d)
	code, body := e.get("/blocks/1")
	if code != http.StatusOK {
		t.Fatalf("GET /blocks/1: %d %s", code, body)
	}
	var j api.BlockJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		t.Fatal(err)
	}
	_, sbody := e.get("/status")
	chainID := decode[api.StatusJSON](t, sbody).ChainID

	// From genesis.json, without package genesis.
	var file struct {
		NetworkID   uint64   `json:"network_id"`
		Timestamp   uint64   `json:"timestamp"`
		Miners      []string `json:"miners"`
		BlockMining struct {
			Interval   float64 `json:"interval"`
			MaxBound   uint64  `json:"max_bound"`
			MinBound   uint64  `json:"min_bound"`
			Reward     uint64  `json:"reward"`
			Difficulty uint64  `json:"difficulty"`
			AllowEmpty bool    `json:"allow_empty"`
		} `json:"block_mining"`
		GenesisBlock struct {
			Difficulty uint64 `json:"difficulty"`
			Coinbase   string `json:"coinbase"`
		} `json:"genesis_block"`
		Finality string `json:"finality"`
		Alloc    map[string]struct {
			Balance uint64 `json:"balance"`
			Nonce   uint64 `json:"nonce"`
		} `json:"alloc"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	var pre strings.Builder
	fmt.Fprintf(&pre, "ccoin-genesis-v1\nnetwork_id=%d\n", file.NetworkID)
	for _, m := range file.Miners {
		fmt.Fprintf(&pre, "miner=%s\n", strings.ToLower(m))
	}
	bm := file.BlockMining
	if file.Finality == "" {
		file.Finality = "majority"
	}
	fmt.Fprintf(&pre, "interval_ms=%d\nmax_bound=%d\nmin_bound=%d\nreward=%d\ndifficulty=%d\nallow_empty=%t\nfinality=%s\ncoinbase=%s\n",
		uint64(math.Round(bm.Interval*1000)), bm.MaxBound, bm.MinBound, bm.Reward, bm.Difficulty, bm.AllowEmpty,
		file.Finality, strings.ToLower(file.GenesisBlock.Coinbase))
	data := sha256.Sum256([]byte(pre.String()))
	store := smt.NewMemStore()
	var ups []smt.Update
	for a, acc := range file.Alloc {
		addr, err := crypto.ParseAddress(strings.ToLower(a))
		if err != nil {
			t.Fatal(err)
		}
		ups = append(ups, smt.Update{Key: addr, Value: types.Account{Balance: acc.Balance, Nonce: acc.Nonce}.Encode(nil)})
	}
	root, err := smt.New(store, 0).Update(types.Hash{}, ups, store)
	if err != nil {
		t.Fatal(err)
	}

	if j.DataHex != hex.EncodeToString(data[:]) {
		t.Fatalf("data_hex %q, genesis.json gives %x", j.DataHex, data)
	}
	if j.StateRoot != types.Hash(root).String() || j.Time != file.Timestamp*1000 || j.Difficulty != file.GenesisBlock.Difficulty ||
		j.Number != 1 || j.Version != types.HeaderVersion || j.ChainID != "" || j.Parent != "" || j.Sealer != "" ||
		j.TxRoot != (types.Hash{}).String() || j.Reward != 0 || j.TxCount != 0 {
		t.Fatalf("genesis header fields disagree with genesis.json: %+v", j.HeaderJSON)
	}
	// The header from the JSON fields, pow_nonce from the API.
	h := types.Header{Version: j.Version, Number: 1, Time: j.Time, StateRoot: root, Difficulty: j.Difficulty,
		Data: data[:], PowNonce: j.PowNonce}
	id := h.ID().String()
	if id != j.ID || id != chainID || !types.MeetsDifficulty(h.ID(), h.Difficulty) {
		t.Fatalf("recomputed genesis id %s; block says %s, status says chain_id %s", id, j.ID, chainID)
	}
	// The API's own parser agrees.
	if hh, err := api.HeaderFromJSON(j.HeaderJSON); err != nil || hh.ID().String() != chainID {
		t.Fatalf("HeaderFromJSON: %v", err)
	}
}

// TestBinaryDataRoundTrip submits a transaction whose data is not UTF-8 and
// reads it back: data_hex carries the bytes, so the id and the signature
// check out from the JSON.
func TestBinaryDataRoundTrip(t *testing.T) {
	e := newEnv(t)
	bin := string([]byte{0xff, 0x00, 'o', 'k', 0xc3})
	tx := e.f.MustSign(e.f.Keys.Alice, 5, e.f.Keys.Bob.Address(), 1, bin)
	in := api.TxToJSON(tx)
	if in.DataHex != "ff006f6bc3" || in.Data != "\ufffd\x00ok\ufffd" {
		t.Fatalf("data %q data_hex %q", in.Data, in.DataHex)
	}
	code, body := e.do(http.MethodPost, "/txs", mustJSON(t, in), nil)
	if code != http.StatusOK {
		t.Fatalf("POST /txs: %d %s", code, body)
	}
	res := decode[api.SubmitResponseJSON](t, body)
	if len(res.Results) != 1 || !res.Results[0].Accepted || res.Results[0].ID != tx.ID().String() {
		t.Fatalf("submit: %s", body)
	}
	code, body = e.get("/txs/" + tx.ID().String())
	if code != http.StatusOK {
		t.Fatalf("GET /txs: %d %s", code, body)
	}
	got := decode[api.TxStatusJSON](t, body)
	if got.DataHex != in.DataHex {
		t.Fatalf("data_hex %q, want %q", got.DataHex, in.DataHex)
	}
	back, err := api.TxFromJSON(got.TxJSON)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID() != tx.ID() || back.VerifySignature(nil) != nil {
		t.Fatal("the transaction read from the API does not reproduce its id and signature")
	}

	// Text data has no data_hex.
	if j := api.TxToJSON(e.f.MustSign(e.f.Keys.Alice, 6, e.f.Keys.Bob.Address(), 1, "caf\u00e9")); j.DataHex != "" {
		t.Fatalf("UTF-8 data got data_hex %q", j.DataHex)
	}
	// Bad hex is refused with bad_hex.
	in.DataHex = "zz"
	if _, err := api.TxFromJSON(in); err == nil || !strings.Contains(err.Error(), "bad_hex") {
		t.Fatalf("bad data_hex: %v", err)
	}
}

// TestPeerIDIsString: peer ids are random 64-bit numbers, beyond what a
// JavaScript number holds exactly, so they travel as decimal strings.
func TestPeerIDIsString(t *testing.T) {
	j, err := json.Marshal(api.PeerJSON{ID: 12974846957752587053})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(j, []byte(`"id":"12974846957752587053"`)) {
		t.Fatalf("peer json %s", j)
	}
	e := newEnv(t)
	_, body := e.get("/peers")
	var raw struct {
		Peers []map[string]any `json:"peers"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || len(raw.Peers) == 0 {
		t.Fatalf("peers: %v %s", err, body)
	}
	if _, ok := raw.Peers[0]["id"].(string); !ok {
		t.Fatalf("peer id is %T", raw.Peers[0]["id"])
	}
}
