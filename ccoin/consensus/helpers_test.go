package consensus

import (
	"testing"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

// Keys 0..2 are the miners in schedule order, key 3 is an outsider.
func testKeys(tb testing.TB) [4]*crypto.PrivateKey {
	tb.Helper()
	return [4]*crypto.PrivateKey(cryptotest.Keys(tb, 4))
}

const (
	testGenesisSec = 1_700_000_000
	testGenesisMs  = testGenesisSec * 1000
	testInterval   = 100 // ms
)

func testGenesis(tb testing.TB, mod func(f *genesis.File)) *genesis.Genesis {
	tb.Helper()
	k := testKeys(tb)
	f := genesis.File{
		NetworkID: 7,
		Timestamp: testGenesisSec,
		Miners:    []string{k[0].Address().String(), k[1].Address().String(), k[2].Address().String()},
		BlockMining: genesis.BlockMining{
			Interval: 0.1, MaxBound: 5, MinBound: 1, Reward: 5, Difficulty: 1,
			PlaceholderData: genesis.Placeholder{Kind: "str", Text: "ccoin"},
		},
		GenesisBlock: genesis.GenesisBlock{Difficulty: 1},
	}
	if mod != nil {
		mod(&f)
	}
	g, err := genesis.New(f)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func testTxs(n int) []*types.Transaction {
	txs := make([]*types.Transaction, n)
	for i := range txs {
		txs[i] = &types.Transaction{ChainID: types.Hash{9}, Nonce: uint64(i + 1), From: crypto.Address{1}, To: crypto.Address{2}, Amount: 1}
	}
	return txs
}

type genesisFile = genesis.File
