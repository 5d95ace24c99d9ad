package consensus

import (
	"math"
	"testing"
)

func TestSchedule(t *testing.T) {
	k := testKeys(t)
	s := NewSchedule(testGenesis(t, nil))
	if s.GenesisMs != testGenesisMs || s.IntervalMs != testInterval || len(s.Miners) != 3 {
		t.Fatalf("schedule %+v", s)
	}
	slotAt := []struct {
		ms, slot uint64
	}{
		{0, 0},
		{testGenesisMs - 1, 0},
		{testGenesisMs, 0},
		{testGenesisMs + 99, 0},
		{testGenesisMs + 100, 1},
		{testGenesisMs + 199, 1},
		{testGenesisMs + 200, 2},
		{testGenesisMs + 100*1000 + 5, 1000},
		{math.MaxUint64, (math.MaxUint64 - testGenesisMs) / 100},
	}
	for _, c := range slotAt {
		if got := s.SlotAt(c.ms); got != c.slot {
			t.Errorf("SlotAt(%d) = %d, want %d", c.ms, got, c.slot)
		}
	}
	starts := []struct{ slot, ms uint64 }{
		{0, testGenesisMs},
		{1, testGenesisMs + 100},
		{7, testGenesisMs + 700},
		{math.MaxUint64, math.MaxUint64},
		{(math.MaxUint64-testGenesisMs)/100 + 1, math.MaxUint64},
	}
	for _, c := range starts {
		if got := s.SlotStart(c.slot); got != c.ms {
			t.Errorf("SlotStart(%d) = %d, want %d", c.slot, got, c.ms)
		}
		if c.ms != math.MaxUint64 && s.SlotAt(c.ms) != c.slot {
			t.Errorf("SlotAt(SlotStart(%d)) = %d", c.slot, s.SlotAt(c.ms))
		}
	}
	for slot, want := range []int{0, 1, 2, 0, 1, 2, 0} {
		if got := s.Leader(uint64(slot)); got != k[want].Address() {
			t.Errorf("Leader(%d) = %s, want miner %d", slot, got, want)
		}
	}
	if s.Leader(math.MaxUint64) != k[math.MaxUint64%3].Address() {
		t.Error("leader of the last slot")
	}
}
