package sim

import "testing"

// TestByzantineTwoThirds runs schedules with up to f byzantine validators
// (blocks equivocated to two halves of the network, double votes, surround
// votes) under the "two_thirds" rule: no honest node may finalize
// conflicting blocks, the bank must hold, and honest validators must never
// commit an offence themselves.
func TestByzantineTwoThirds(t *testing.T) {
	sh := Shape{MinValidators: 4, MaxValidators: 7, MaxBasic: 1, Finality: "two_thirds", Slots: 300, MaxFaults: 8, Byzantine: true}
	n := 6
	if raceEnabled || testing.Short() {
		n = 1
	}
	byz := 0
	for seed := uint64(1); seed <= uint64(n); seed++ {
		s := Generate(seed, sh)
		byz += len(s.Byzantine)
		r, err := Run(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Failed() {
			t.Errorf("seed %d: violations %q, liveness %q\n%s", seed, r.Violations, r.Liveness, s)
		}
	}
	if byz == 0 {
		t.Fatal("no schedule drew a byzantine validator")
	}
}
