package chain

import (
	"errors"
	"testing"

	"ccoin/ccoin/types"
)

// TestEquivocationRecordedBeforeRefusal: a second block by one sealer for
// one slot is evidence even when it is refused for an unknown parent or for
// a branch that leaves the final chain (DESIGN section 5: record first,
// then refuse); an unauthenticated one is refused without creating any.
func TestEquivocationRecordedBeforeRefusal(t *testing.T) {
	rows := []struct {
		name     string
		second   func(e *env, builder *Chain) *types.Block
		wantErr  error
		evidence bool
	}{
		{"unknown parent", func(e *env, builder *Chain) *types.Block {
			p := buildBranch(t, builder, e.miners, e.g.ChainID, seal{1, 3})[0] // only the builder has it
			return makeBlock(t, builder, p.ID(), e.miners[0], 5)
		}, ErrUnknownParent, true},
		{"branch leaves the final chain", func(e *env, builder *Chain) *types.Block {
			a := makeBlock(t, e.c, e.g.ChainID, e.miners[1], 2)
			e.mustImport(a)
			e.fin.finalize(a.ID(), 2)
			e.mustImport(makeBlock(t, e.c, a.ID(), e.miners[2], 3))
			if _, fin := e.c.Finalized(); fin != a.ID() {
				t.Fatal("test setup: a not final")
			}
			return makeBlock(t, builder, e.g.ChainID, e.miners[0], 5, e.tx(e.users[0], e.miners[1].Address(), 1, 1))
		}, ErrBelowFinalized, true},
		{"unknown parent, forged seal", func(e *env, builder *Chain) *types.Block {
			p := buildBranch(t, builder, e.miners, e.g.ChainID, seal{1, 3})[0]
			b := makeBlock(t, builder, p.ID(), e.miners[0], 5)
			b.Signature[3] ^= 1
			return b
		}, ErrUnknownParent, false},
		{"leaves the final chain, forged seal", func(e *env, builder *Chain) *types.Block {
			a := makeBlock(t, e.c, e.g.ChainID, e.miners[1], 2)
			e.mustImport(a)
			e.fin.finalize(a.ID(), 2)
			e.mustImport(makeBlock(t, e.c, a.ID(), e.miners[2], 3))
			b := makeBlock(t, builder, e.g.ChainID, e.miners[0], 5, e.tx(e.users[0], e.miners[1].Address(), 1, 1))
			b.Signature[3] ^= 1
			return b
		}, ErrBelowFinalized, false},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			e := newEnv(t, 3, 1)
			bdb, builder := memChain(t, e.g, nil)
			defer bdb.Close()
			first := makeBlock(t, e.c, e.g.ChainID, e.miners[0], 5)
			if r := e.mustImport(first); r.Equivocation {
				t.Fatal("first block flagged")
			}
			second := row.second(e, builder)
			if second.ID() == first.ID() || second.Header.Slot != first.Header.Slot || second.Header.Sealer != first.Header.Sealer {
				t.Fatal("test setup: not a second block for the slot")
			}
			if _, err := e.c.ImportBlock(second, nil); !errors.Is(err, row.wantErr) {
				t.Fatalf("got %v, want %v", err, row.wantErr)
			}
			if e.c.HasBlock(second.ID()) {
				t.Fatal("refused block stored")
			}
			ev, err := e.c.Evidence(10)
			if err != nil {
				t.Fatal(err)
			}
			if !row.evidence {
				if len(ev) != 0 {
					t.Fatalf("%d evidence records from an unauthenticated block", len(ev))
				}
				return
			}
			if len(ev) != 1 || !sameSet([]types.Hash{ev[0][0].ID(), ev[0][1].ID()}, []types.Hash{first.ID(), second.ID()}) {
				t.Fatalf("evidence %v, want the pair", ev)
			}
			// It survives a restart.
			if err := e.db.Close(); err != nil {
				t.Fatal(err)
			}
			e.open()
			if ev, err := e.c.Evidence(10); err != nil || len(ev) != 1 {
				t.Fatalf("evidence after reopen: %d records, %v", len(ev), err)
			}
		})
	}
}
