package genesis

import (
	"bytes"
	"errors"
	"fmt"
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
		{"max_block_bytes at the frame limit", `"allow_empty":true`, `"allow_empty":true,"max_block_bytes":16777216`},
		{"max_block_bytes just above its limit", `"allow_empty":true`, `"allow_empty":true,"max_block_bytes":16711681`},
		{"max_block_bytes too small for a block", `"allow_empty":true`, `"allow_empty":true,"max_block_bytes":1000`},
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

// TestMaxBlockBytes: absent means 2 MiB and leaves the chain id of files
// written before the setting unchanged (the shipped genesis.json's and the
// prototype's); a value within the limits is kept and makes another chain.
func TestMaxBlockBytes(t *testing.T) {
	base := `{"network_id":1,"miners":["34268774b426751444f6346517a72676631302f6"],"block_mining":{"interval":1,"max_bound":10,"min_bound":0,"reward":1,"difficulty":1,"allow_empty":true},"genesis_block":{"difficulty":1},"alloc":{}}`
	with := func(v string) string {
		return strings.Replace(base, `"allow_empty":true`, `"allow_empty":true,"max_block_bytes":`+v, 1)
	}
	def, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if def.MaxBlockBytes != DefaultMaxBlockBytes || DefaultMaxBlockBytes != 2<<20 {
		t.Fatalf("default max_block_bytes %d", def.MaxBlockBytes)
	}
	// Chain ids of files without the field, as computed before it existed.
	if got := def.ChainID.String(); got != "069828591e9d6e258407d5098f0a571cbc7fdb80afc8005f57abe52a4c6abf9d" {
		t.Fatalf("chain id %s changed", got)
	}
	if shipped, err := Load("../../genesis.json"); err != nil || shipped.ChainID.String() != "000a6f71e0ecb1d141a9e10bfbadee0675266633e1dd0db1701e76ddccbeda34" {
		t.Fatalf("shipped genesis.json: %v, chain id changed", err)
	}
	explicit, err := Parse([]byte(with("2097152")))
	if err != nil {
		t.Fatal(err)
	}
	if explicit.ChainID != def.ChainID {
		t.Fatal("naming the default changed the chain id")
	}
	for _, v := range []string{"16384", "1048576", "4128768", "16711680"} {
		g, err := Parse([]byte(with(v)))
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if fmt.Sprint(g.MaxBlockBytes) != v || g.ChainID == def.ChainID {
			t.Fatalf("%s: cap %d, chain id %s (default's %s)", v, g.MaxBlockBytes, g.ChainID, def.ChainID)
		}
	}
	if MaxBlockBytesLimit >= 16<<20 {
		t.Fatal("the limit must stay below the 16 MiB frame limit")
	}
}
