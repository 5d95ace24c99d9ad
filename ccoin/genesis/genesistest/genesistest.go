package genesistest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/genesis"
)

// VectorGenesis is the first case of testdata/genesis-vectors.json (the
// devnet's genesis), which the execution, snapshot and finality vectors
// are built on.
func VectorGenesis(tb testing.TB) *genesis.Genesis {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(cryptotest.RepoRoot(tb), "testdata", "genesis-vectors.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var v struct {
		Cases []struct {
			GenesisJSON string `json:"genesis_json"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatal(err)
	}
	g, err := genesis.Parse([]byte(v.Cases[0].GenesisJSON))
	if err != nil {
		tb.Fatal(err)
	}
	return g
}
