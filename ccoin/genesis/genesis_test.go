package genesis

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestLoadShippedFiles(t *testing.T) {
	for _, path := range []string{"../../genesis.json", "../../../shared/prototype/genesis.json"} {
		t.Run(path, func(t *testing.T) {
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%s not present", path)
			}
			a, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			// Byte-identical genesis every time: no clock, no randomness.
			if !bytes.Equal(a.Block.Encode(nil), b.Block.Encode(nil)) || a.ChainID != b.ChainID {
				t.Fatal("genesis block differs between two loads")
			}
			if _, err := a.Block.Header.CheckPow(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestInvalidGenesis(t *testing.T) {
	base := `{"network_id":1,"miners":["34268774b426751444f6346517a72676631302f6"],"block_mining":{"interval":1,"max_bound":10,"min_bound":0,"reward":1,"difficulty":1,"allow_empty":true},"genesis_block":{"difficulty":1},"alloc":{}}`
	rows := []struct{ name, from, to string }{
		{"no miners", `"miners":["34268774b426751444f6346517a72676631302f6"]`, `"miners":[]`},
		{"bad miner", `"miners":["34268774b426751444f6346517a72676631302f6"]`, `"miners":["xyz"]`},
		{"duplicate miner", `"miners":["34268774b426751444f6346517a72676631302f6"]`, `"miners":["34268774b426751444f6346517a72676631302f6","34268774b426751444f6346517a72676631302f6"]`},
		{"zero interval", `"interval":1`, `"interval":0`},
		{"min above max", `"min_bound":0`, `"min_bound":11`},
		{"difficulty 9", `"difficulty":1,"allow_empty"`, `"difficulty":9,"allow_empty"`},
		{"unknown field", `"network_id":1`, `"network_id":1,"netwrok":2`},
		{"bad finality", `"network_id":1`, `"network_id":1,"finality":"all"`},
		{"bad alloc address", `"alloc":{}`, `"alloc":{"zz":{"balance":1}}`},
		{"alloc overflow", `"alloc":{}`, `"alloc":{"34268774b426751444f6346517a72676631302f6":{"balance":18446744073709551615}}`},
		{"bad placeholder", `"allow_empty":true`, `"allow_empty":true,"placeholder_data":["zz",1]`},
	}
	if _, err := Parse([]byte(base)); err != nil {
		t.Fatalf("base genesis: %v", err)
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			bad := strings.Replace(base, r.from, r.to, 1)
			if bad == base {
				t.Fatal("replacement did not apply")
			}
			if _, err := Parse([]byte(bad)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("want ErrInvalid, got %v", err)
			}
		})
	}
}

func TestQuorum(t *testing.T) {
	for _, r := range []struct {
		miners   int
		finality string
		want     int
	}{{1, "", 1}, {2, "", 2}, {3, "", 2}, {4, "", 3}, {3, "two_thirds", 3}, {4, "two_thirds", 3}, {7, "two_thirds", 5}} {
		f := File{Finality: r.finality}
		f.BlockMining.Interval, f.BlockMining.MaxBound = 1, 1
		for i := range r.miners {
			f.Miners = append(f.Miners, strings.Repeat(string("0123456789"[i]), 40))
		}
		g, err := New(f)
		if err != nil {
			t.Fatal(err)
		}
		if g.Quorum != r.want {
			t.Fatalf("%d miners, %q: quorum %d, want %d", r.miners, r.finality, g.Quorum, r.want)
		}
	}
}

func TestRestore(t *testing.T) {
	g, err := Load("../../genesis.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile("../../genesis.json")
	r, err := Restore(raw, g.Block)
	if err != nil {
		t.Fatal(err)
	}
	if r.ChainID != g.ChainID || r.Quorum != g.Quorum || len(r.Miners) != len(g.Miners) || r.TotalAlloc() != g.TotalAlloc() || g.TotalAlloc() != 3_000_000_000 {
		t.Fatal("restored genesis differs")
	}
	// A block built from other parameters is refused.
	other := strings.Replace(string(raw), `"reward": 100`, `"reward": 101`, 1)
	if _, err := Restore([]byte(other), g.Block); !errors.Is(err, ErrInvalid) {
		t.Fatalf("want ErrInvalid for a mismatched block, got %v", err)
	}
}
