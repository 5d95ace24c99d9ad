package consensus

import (
	"math"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
)

// MaxFutureSlots is how far ahead of the local clock a block's slot may be
// before it is refused outright rather than held.
const MaxFutureSlots = 2

// Schedule maps wall-clock time to slots and slots to leaders.
type Schedule struct {
	GenesisMs, IntervalMs uint64
	Miners                []crypto.Address
}

// NewSchedule returns the schedule of g.
func NewSchedule(g *genesis.Genesis) Schedule {
	return Schedule{GenesisMs: g.TimeMs, IntervalMs: g.IntervalMs, Miners: g.Miners}
}

// SlotAt is floor((ms - genesis) / interval), and 0 before genesis.
func (s Schedule) SlotAt(unixMs uint64) uint64 {
	if unixMs < s.GenesisMs || s.IntervalMs == 0 {
		return 0
	}
	return (unixMs - s.GenesisMs) / s.IntervalMs
}

// SlotStart is the unix ms at which slot begins. It saturates at
// MaxUint64 instead of wrapping, because slots come from outside input.
func (s Schedule) SlotStart(slot uint64) uint64 {
	if s.IntervalMs != 0 && slot > (math.MaxUint64-s.GenesisMs)/s.IntervalMs {
		return math.MaxUint64
	}
	return s.GenesisMs + slot*s.IntervalMs
}

// Leader is miners[slot mod N].
func (s Schedule) Leader(slot uint64) crypto.Address {
	if len(s.Miners) == 0 {
		return crypto.Address{}
	}
	return s.Miners[slot%uint64(len(s.Miners))]
}

// inSlot reports whether unixMs lies in [SlotStart(slot), SlotStart(slot+1)),
// computed without overflow.
func (s Schedule) inSlot(unixMs, slot uint64) bool {
	return unixMs >= s.GenesisMs && s.SlotAt(unixMs) == slot
}

// slotEnd is SlotStart(slot+1), saturating.
func (s Schedule) slotEnd(slot uint64) uint64 {
	if slot == math.MaxUint64 {
		return math.MaxUint64
	}
	return s.SlotStart(slot + 1)
}
