package state

import (
	"bytes"
	"ccoin/ccoin/genesis/genesistest"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"sort"
	"testing"

	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

var update = flag.Bool("update", false, "rewrite testdata/execution-vectors.json (deterministic)")

const executionVectorsPath = "../../testdata/execution-vectors.json"

// ExecutionVectors is testdata/execution-vectors.json (PROTOCOL.md sections
// 9 and 10): a valid block 2 on the devnet genesis, the state before and
// after it, and transaction lists that make a block invalid.
type ExecutionVectors struct {
	Comment   string          `json:"comment"`
	ChainID   string          `json:"chain_id"`
	PreState  []ExecAccount   `json:"pre_state"`
	PreRoot   string          `json:"pre_state_root"`
	Block     string          `json:"block_hex"`
	BlockID   string          `json:"block_id"`
	PostState []ExecAccount   `json:"post_state"`
	PostRoot  string          `json:"post_state_root"`
	Invalid   []ExecInvalid   `json:"invalid"`
	Steps     []ExecTxComment `json:"transactions"`
}

// ExecAccount is one account of a state.
type ExecAccount struct {
	Address string `json:"address"`
	Balance uint64 `json:"balance"`
	Nonce   uint64 `json:"nonce"`
}

// ExecTxComment says what each transaction of the block does.
type ExecTxComment struct {
	ID      string `json:"id"`
	Comment string `json:"comment"`
}

// ExecInvalid is a list of signed transactions that, applied in order to
// pre_state as one block's transactions, makes the block invalid.
type ExecInvalid struct {
	Comment string   `json:"comment"`
	Txs     []string `json:"txs_hex"`
	Error   string   `json:"error"` // "nonce_gap", "nonce_too_low", "insufficient_funds", "duplicate", "wrong_chain"
}

var execErrors = map[string]error{
	"nonce_gap": ErrNonceGap, "nonce_too_low": ErrNonceTooLow, "insufficient_funds": ErrInsufficientFunds,
	"duplicate": ErrDuplicateTx, "wrong_chain": ErrWrongChain,
}

func accountsOf(m map[crypto.Address]types.Account) []ExecAccount {
	out := make([]ExecAccount, 0, len(m))
	for a, acc := range m {
		out = append(out, ExecAccount{a.String(), acc.Balance, acc.Nonce})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

func rootOf(t *testing.T, m map[crypto.Address]types.Account) types.Hash {
	store := smt.NewMemStore()
	var ups []smt.Update
	for a, acc := range m {
		ups = append(ups, smt.Update{Key: a, Value: acc.Encode(nil)})
	}
	r, err := smt.New(store, 0).Update(types.Hash{}, ups, store)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func makeExecutionVectors(t *testing.T) ExecutionVectors {
	g := genesistest.VectorGenesis(t)
	keys := cryptotest.VectorKeys(t)
	wallet, m0, m1, m2 := keys[0], keys[1], keys[2], keys[3]
	other := crypto.Address{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33}
	fresh := crypto.Address{0xff, 0xee}
	tx := func(k *crypto.PrivateKey, nonce uint64, to crypto.Address, amount uint64, data string) *types.Transaction {
		x := &types.Transaction{ChainID: g.ChainID, Nonce: nonce, From: k.Address(), To: to, Amount: amount,
			Data: []byte(data), Time: g.TimeMs + 1000 + nonce}
		if data == "" {
			x.Data = nil
		}
		x.PublicKey = k.Public().DER()
		x.Signature = cryptotest.SignDeterministic(k, x.ID())
		return x
	}
	steps := []struct {
		comment string
		tx      *types.Transaction
	}{
		{"miner 0 pays the wallet 1000 (nonce 1)", tx(m0, 1, wallet.Address(), 1000, "welcome")},
		{"miner 0 pays itself 5 (nonce 2): only its nonce changes", tx(m0, 2, m0.Address(), 5, "")},
		{"the wallet, funded by the first transaction of this block, pays 250 (nonce 1)", tx(wallet, 1, other, 250, "")},
		{"miner 2 sends 0 coins to an address that does not exist (nonce 1): miner 2's nonce changes, the " +
			"recipient is not written to the state", tx(m2, 1, fresh, 0, "")},
	}
	var txs []*types.Transaction
	for _, s := range steps {
		txs = append(txs, s.tx)
	}
	pre := make(map[crypto.Address]types.Account)
	for a, acc := range g.Alloc {
		pre[a] = acc
	}
	o := NewOverlay(mapReader(pre))
	const slot = 1 // leader: miners[1]
	h := types.Header{Version: types.HeaderVersion, ChainID: g.ChainID, Number: 2, Parent: g.ChainID, Slot: slot,
		Time: g.TimeMs + slot*g.IntervalMs + 250, Sealer: m1.Address(), Reward: g.File.BlockMining.Reward,
		Difficulty: g.File.BlockMining.Difficulty, Data: []byte("execution vector")}
	b := &types.Block{Header: h, Txs: txs}
	if err := ApplyBlock(o, b, g.ChainID); err != nil {
		t.Fatal(err)
	}
	post := make(map[crypto.Address]types.Account)
	for a, acc := range pre {
		post[a] = acc
	}
	for _, c := range o.Changes() {
		post[c.Addr] = c.After
	}
	b.Header.TxRoot = types.TxRoot(b.TxIDs())
	b.Header.StateRoot = rootOf(t, post)
	b.Header.Mine(0, nil)
	b.SealerKey = m1.Public().DER()
	b.Signature = cryptotest.SignDeterministic(m1, b.Header.ID())

	v := ExecutionVectors{Comment: "block execution, see PROTOCOL.md sections 9 and 10. Made by `go test ./ccoin/state -run " +
		"TestExecutionVectors -update`. block_hex is a valid block 2 on the devnet genesis (testdata/genesis-vectors.json " +
		"case 0): sealed at slot 1 by its leader (the second miner) with the devnet keys. Applying its transactions in order " +
		"to pre_state and crediting the reward to the sealer gives post_state (every account in the state tree) and " +
		"post_state_root, its header's state_root. Each invalid entry is a transaction list that, applied to pre_state, " +
		"makes a block invalid, with the reason.",
		ChainID: g.ChainID.String(), PreState: accountsOf(pre), PreRoot: g.Block.Header.StateRoot.String(),
		Block: hex.EncodeToString(b.Encode(nil)), BlockID: b.Header.ID().String(), PostState: accountsOf(post),
		PostRoot: b.Header.StateRoot.String()}
	for _, s := range steps {
		v.Steps = append(v.Steps, ExecTxComment{s.tx.ID().String(), s.comment})
	}
	enc := func(txs ...*types.Transaction) []string {
		var out []string
		for _, x := range txs {
			out = append(out, hex.EncodeToString(x.Encode(nil)))
		}
		return out
	}
	wrong := tx(m0, 1, other, 1, "")
	wrong.ChainID = types.Hash{1}
	wrong.Signature = cryptotest.SignDeterministic(m0, wrong.ID())
	v.Invalid = []ExecInvalid{
		{"nonce 2 first: the account's nonce is 0, so the next must be 1", enc(tx(m0, 2, other, 1, "")), "nonce_gap"},
		{"the same nonce twice (two different transactions)", enc(tx(m0, 1, other, 1, ""), tx(m0, 1, other, 2, "")), "nonce_too_low"},
		{"the same transaction twice", enc(tx(m0, 1, other, 1, ""), tx(m0, 1, other, 1, "")), "duplicate"},
		{"the wallet spends before it is funded", enc(tx(wallet, 1, other, 1, "")), "insufficient_funds"},
		{"more than the balance", enc(tx(m0, 1, other, 1_000_000_001, "")), "insufficient_funds"},
		{"signed for another chain id", enc(wrong), "wrong_chain"},
	}
	return v
}

func TestExecutionVectors(t *testing.T) {
	want := makeExecutionVectors(t)
	var v ExecutionVectors
	cryptotest.Golden(t, executionVectorsPath, want, &v, *update)

	g := genesistest.VectorGenesis(t)
	pre := make(map[crypto.Address]types.Account)
	for _, e := range v.PreState {
		addr, _ := crypto.ParseAddress(e.Address)
		pre[addr] = types.Account{Balance: e.Balance, Nonce: e.Nonce}
	}
	if rootOf(t, pre).String() != v.PreRoot || v.PreRoot != g.Block.Header.StateRoot.String() {
		t.Fatal("pre_state does not hash to the genesis state root")
	}
	raw, _ := hex.DecodeString(v.Block)
	blk, err := types.DecodeBlock(raw)
	if err != nil {
		t.Fatal(err)
	}
	// Every header rule of section 10, at a time inside the block's slot.
	eng := consensus.NewEngine(g, nil)
	if err := eng.VerifyHeader(&g.Block.Header, blk, blk.Header.Time); err != nil {
		t.Fatalf("the vector block breaks a consensus rule: %v", err)
	}
	if _, err := VerifyTxs(blk.Txs, nil, nil); err != nil {
		t.Fatal(err)
	}
	o := NewOverlay(mapReader(pre))
	if err := ApplyBlock(o, blk, g.ChainID); err != nil {
		t.Fatal(err)
	}
	post := make(map[crypto.Address]types.Account)
	for a, acc := range pre {
		post[a] = acc
	}
	for _, c := range o.Changes() {
		post[c.Addr] = c.After
	}
	if got := accountsOf(post); !jsonEqual(got, v.PostState) || rootOf(t, post).String() != v.PostRoot ||
		blk.Header.StateRoot.String() != v.PostRoot {
		t.Fatal("post_state or its root differ")
	}
	for _, inv := range v.Invalid {
		var txs []*types.Transaction
		for _, s := range inv.Txs {
			p, _ := hex.DecodeString(s)
			x, err := types.DecodeTx(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := x.VerifySignature(nil); err != nil {
				t.Fatalf("%s: vectors of invalid blocks carry valid signatures: %v", inv.Comment, err)
			}
			txs = append(txs, x)
		}
		err := ApplyBlock(NewOverlay(mapReader(pre)), &types.Block{Header: blk.Header, Txs: txs}, g.ChainID)
		if !errors.Is(err, execErrors[inv.Error]) {
			t.Errorf("%s: got %v, want %s", inv.Comment, err, inv.Error)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
