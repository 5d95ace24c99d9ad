package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Kind names a fault.
type Kind int

// The faults a schedule can hold.
const (
	// Delay adds DelayMs to every message from a node in A to a node in B.
	Delay Kind = iota
	// Loss drops LossPct percent of the messages from A to B.
	Loss
	// Partition cuts every link between A and B, both ways.
	Partition
	// OneWay cuts the links from A to B; B still reaches A.
	OneWay
	// Crash kills node A[0] (kill -9: its database keeps what it synced,
	// its pool and every message in flight to it are lost) and restarts it
	// DownMs later (To is the slot that ends in).
	Crash
)

func (k Kind) String() string {
	return [...]string{"delay", "loss", "partition", "one-way", "crash"}[k]
}

// Fault is one fault, active in slots [From, To).
type Fault struct {
	Kind     Kind
	From, To uint64
	A, B     []int // node indexes; see Kind
	DelayMs  int64
	LossPct  int
	DownMs   int64
}

// Schedule is everything a run does, drawn from its seed. The same
// schedule always gives the same run.
type Schedule struct {
	Seed       uint64
	Validators int    // miners, nodes 0..Validators-1
	Basic      int    // basic nodes after them
	Finality   string // genesis finality: "majority" or "two_thirds"
	Slots      uint64 // slots with sealing; faults lie in [1, HealAt)
	HealAt     uint64 // every fault has ended by then
	IntervalMs uint64
	SkewMs     []int64   // each node's clock offset (at most a quarter slot)
	LinkMs     [][]int64 // base one-way latency from i to j
	TxPerSlot  float64   // mean transfers submitted per slot
	Byzantine  []int     // validators that equivocate, double-vote and surround-vote
	Faults     []Fault
}

// Nodes is the number of nodes.
func (s *Schedule) Nodes() int { return s.Validators + s.Basic }

// Shape bounds what Generate draws.
type Shape struct {
	MinValidators, MaxValidators int
	MaxBasic                     int
	Finality                     string
	Slots                        uint64 // sealing slots per run
	MaxFaults                    int
	// Byzantine draws up to f byzantine validators, f the most the
	// finality rule tolerates: fewer than a third of the miners with
	// "two_thirds" (none with "majority", which assumes crash faults).
	Byzantine bool
}

// maxByzantine is the most byzantine miners the rule tolerates.
func maxByzantine(miners int, finality string) int {
	if finality != "two_thirds" {
		return 0
	}
	return (miners - 1) / 3
}

// DefaultShape is what `make sim` runs: 3 to 7 validators, up to 2 basic
// nodes, 300 slots, up to 8 faults.
var DefaultShape = Shape{MinValidators: 3, MaxValidators: 7, MaxBasic: 2, Finality: "majority", Slots: 300, MaxFaults: 8}

// Generate draws a schedule from seed.
func Generate(seed uint64, sh Shape) Schedule {
	r := rand.New(rand.NewPCG(seed, 0x5ca1ab1e))
	s := Schedule{
		Seed:       seed,
		Validators: sh.MinValidators + r.IntN(sh.MaxValidators-sh.MinValidators+1),
		Basic:      r.IntN(sh.MaxBasic + 1),
		Finality:   sh.Finality,
		Slots:      sh.Slots,
		IntervalMs: 1000,
		TxPerSlot:  0.5 + r.Float64()*1.5,
	}
	if f := maxByzantine(s.Validators, s.Finality); sh.Byzantine && f > 0 {
		for _, v := range r.Perm(s.Validators)[:1+r.IntN(f)] {
			s.Byzantine = append(s.Byzantine, v)
		}
		slices.Sort(s.Byzantine)
	}
	// The last 30% of the run is healed: the liveness window.
	s.HealAt = s.Slots - s.Slots*3/10
	n := s.Nodes()
	s.SkewMs = make([]int64, n)
	for i := range s.SkewMs {
		if r.IntN(3) == 0 { // a third of the nodes have a skewed clock
			q := int64(s.IntervalMs / 4)
			s.SkewMs[i] = r.Int64N(2*q+1) - q
		}
	}
	s.LinkMs = make([][]int64, n)
	for i := range s.LinkMs {
		s.LinkMs[i] = make([]int64, n)
		for j := range s.LinkMs[i] {
			s.LinkMs[i][j] = 5 + r.Int64N(95)
		}
	}
	nf := r.IntN(sh.MaxFaults + 1)
	for range nf {
		s.Faults = append(s.Faults, drawFault(r, &s))
	}
	return s
}

func drawFault(r *rand.Rand, s *Schedule) Fault {
	n := s.Nodes()
	from := 1 + r.Uint64N(s.HealAt-1)
	to := min(from+2+r.Uint64N(25), s.HealAt)
	f := Fault{Kind: Kind(r.IntN(5)), From: from, To: to}
	a, b := split(r, n)
	switch f.Kind {
	case Delay:
		f.A, f.B = a, b
		f.DelayMs = int64(s.IntervalMs/2) + r.Int64N(int64(4*s.IntervalMs))
	case Loss:
		f.A, f.B = a, b
		f.LossPct = 10 + r.IntN(80)
	case Partition, OneWay:
		f.A, f.B = a, b
	case Crash:
		f.A = []int{r.IntN(n)}
		// Half the restarts are quick (a supervisor restarting the
		// process at once, often within the slot), half take up to 25
		// slots.
		if r.IntN(2) == 0 {
			f.DownMs = 20 + r.Int64N(int64(s.IntervalMs/4))
		} else {
			f.DownMs = int64(s.IntervalMs) + r.Int64N(25*int64(s.IntervalMs))
		}
		f.To = min(f.From+1+uint64(f.DownMs)/s.IntervalMs, s.HealAt)
	}
	return f
}

// split draws two disjoint non-empty groups of nodes (not always covering
// all of them, so a fault may concern one link).
func split(r *rand.Rand, n int) (a, b []int) {
	perm := r.Perm(n)
	k := 1 + r.IntN(n-1)
	a = slices.Clone(perm[:k])
	b = slices.Clone(perm[k:])
	if len(b) > 1 && r.IntN(2) == 0 {
		b = b[:1+r.IntN(len(b))]
	}
	slices.Sort(a)
	slices.Sort(b)
	return a, b
}

// Keep returns the schedule with only the faults at the given indexes.
func (s Schedule) Keep(idx []int) Schedule {
	out := s
	out.Faults = nil
	for _, i := range idx {
		if i >= 0 && i < len(s.Faults) {
			out.Faults = append(out.Faults, s.Faults[i])
		}
	}
	return out
}

func (s *Schedule) nodeName(i int) string {
	if i < s.Validators {
		return fmt.Sprintf("v%d", i)
	}
	return fmt.Sprintf("b%d", i-s.Validators)
}

func (s *Schedule) group(g []int) string {
	names := make([]string, len(g))
	for i, n := range g {
		names[i] = s.nodeName(n)
	}
	return "{" + strings.Join(names, ",") + "}"
}

// String writes the schedule for people: one line for the network, one per
// fault.
func (s Schedule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %d validators (slots mod %d), %d basic, finality %s, %d slots of %d ms, healed from slot %d, %.1f transfers/slot\n",
		s.Seed, s.Validators, s.Validators, s.Basic, s.Finality, s.Slots, s.IntervalMs, s.HealAt, s.TxPerSlot)
	if len(s.Byzantine) > 0 {
		fmt.Fprintf(&b, "  byzantine validators %s: equivocate blocks, double-vote, surround-vote\n", s.group(s.Byzantine))
	}
	for i, sk := range s.SkewMs {
		if sk != 0 {
			fmt.Fprintf(&b, "  clock of %s off by %+d ms\n", s.nodeName(i), sk)
		}
	}
	for i, f := range s.Faults {
		fmt.Fprintf(&b, "  fault %d: slots %d-%d: ", i, f.From, f.To)
		switch f.Kind {
		case Delay:
			fmt.Fprintf(&b, "messages %s -> %s delayed by %d ms", s.group(f.A), s.group(f.B), f.DelayMs)
		case Loss:
			fmt.Fprintf(&b, "messages %s -> %s lost at %d%%", s.group(f.A), s.group(f.B), f.LossPct)
		case Partition:
			fmt.Fprintf(&b, "partition %s | %s", s.group(f.A), s.group(f.B))
		case OneWay:
			fmt.Fprintf(&b, "one-way cut %s -> %s", s.group(f.A), s.group(f.B))
		case Crash:
			fmt.Fprintf(&b, "%s killed, restarted %d ms later", s.nodeName(f.A[0]), f.DownMs)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
