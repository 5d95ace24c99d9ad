package node

import (
	"sync"

	"ccoin/api"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

const (
	// validatorWindow is how many complete epochs GET /validators counts.
	validatorWindow = 100
	// voteRing bounds the per-miner vote record: the epochs of the last
	// voteRing epochs a miner voted in (at least validatorWindow).
	voteRing = 128
	// sealScan bounds how far back the canonical chain is read for a
	// miner's last sealed slot.
	sealScan = 1000
)

// voteActivity is what the node saw of each miner's votes: a bounded
// record per miner (the target epochs of its votes in the last voteRing
// epochs and its newest), for GET /validators. Its zero value is ready.
type voteActivity struct {
	mu    sync.Mutex
	since uint64 // the first epoch noted: earlier epochs are not counted as missed
	start bool
	by    map[crypto.Address]*minerVotes
}

type minerVotes struct {
	last  uint64
	voted [voteRing]uint64 // epoch+1 at index epoch % voteRing
}

func (a *voteActivity) note(v *types.Vote, nowSlot uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.startLocked(nowSlot)
	if a.by == nil {
		a.by = map[crypto.Address]*minerVotes{}
	}
	m := a.by[v.Voter]
	if m == nil {
		m = &minerVotes{}
		a.by[v.Voter] = m
	}
	e := v.Target.Epoch
	m.voted[e%voteRing] = e + 1
	if e > m.last || m.voted[m.last%voteRing] == 0 {
		m.last = e
	}
}

func (a *voteActivity) startLocked(nowSlot uint64) {
	if !a.start {
		a.start, a.since = true, nowSlot
	}
}

// snapshot returns miner's newest vote epoch (nil if none) and whether it
// voted for an epoch of the last voteRing. a.mu is held.
func (a *voteActivity) snapshot(miner crypto.Address) (last *uint64, voted func(e uint64) bool) {
	m := a.by[miner]
	if m == nil {
		return nil, func(uint64) bool { return false }
	}
	l := m.last
	ring := m.voted
	return &l, func(e uint64) bool { return ring[e%voteRing] == e+1 }
}

// noteVote is called for every valid vote the node counts (its own
// included); it feeds the per-validator activity shown by GET /validators.
func (n *Node) noteVote(v *types.Vote) {
	n.activity.note(v, n.nowSlot())
}

// Finality implements api.FinalityReader: the gadget's newest certificate
// and the justified checkpoints above its final one.
func (b *apiReader) Finality() (api.FinalityInfo, error) {
	cert := b.ffg.Certificate()
	if cert == nil {
		return api.FinalityInfo{}, api.ErrProofUnavailable
	}
	final := b.ffg.Final()
	out := api.FinalityInfo{Cert: cert, Quorum: b.g.Quorum, Miners: len(b.g.Miners)}
	for _, cp := range b.ffg.Justified() {
		if cp.Epoch > final.Epoch {
			out.Justified = append(out.Justified, cp)
		}
	}
	return out, nil
}

// VoteOffences implements api.FinalityReader.
func (b *apiReader) VoteOffences() []api.VoteOffence {
	os := b.ffg.Offences()
	out := make([]api.VoteOffence, len(os))
	for i, o := range os {
		out[i] = api.VoteOffence{Kind: o.Kind, Voter: o.Voter, A: o.A, B: o.B}
	}
	return out
}

// Validators implements api.FinalityReader: per miner in schedule order,
// its last sealed slot (canonical chain), last vote epoch, and missed slots
// and votes in the last validatorWindow complete epochs.
func (b *apiReader) Validators() api.ValidatorsInfo {
	now := b.nowSlot()
	out := api.ValidatorsInfo{Slot: now}
	if now > 0 {
		out.WindowTo = now - 1 // the current epoch is still open
	}
	if out.WindowTo >= validatorWindow {
		out.WindowFrom = out.WindowTo - validatorWindow + 1
	} else {
		out.WindowFrom = 1
	}

	// Slots of canonical blocks in the window, and each sealer's newest
	// slot within sealScan blocks.
	filled := map[uint64]bool{}
	lastSealed := map[crypto.Address]uint64{}
	h, _ := b.chain.Head()
	for i := 0; h != nil && !h.IsGenesis() && i < sealScan; i++ {
		if h.Slot >= out.WindowFrom && h.Slot <= out.WindowTo {
			filled[h.Slot] = true
		}
		if _, ok := lastSealed[h.Sealer]; !ok {
			lastSealed[h.Sealer] = h.Slot
		}
		if h.Slot < out.WindowFrom && len(lastSealed) == len(b.g.Miners) {
			break
		}
		p, err := b.chain.Header(h.Parent)
		if err != nil {
			break // a snapshot-seeded chain has no blocks below its base
		}
		h = p
	}

	evidence := map[crypto.Address]int{}
	if pairs, err := b.chain.Evidence(1000); err == nil {
		for _, p := range pairs {
			evidence[p[0].Sealer]++
		}
	}
	for _, o := range b.ffg.Offences() {
		evidence[o.Voter]++
	}

	sched := b.sched
	a := b.activity
	a.mu.Lock()
	defer a.mu.Unlock()
	a.startLocked(now)
	voteFrom := max(out.WindowFrom, a.since)
	for _, m := range b.g.Miners {
		v := api.ValidatorInfo{Address: m, Evidence: evidence[m]}
		if s, ok := lastSealed[m]; ok {
			v.LastSealedSlot = &s
		}
		var voted func(uint64) bool
		v.LastVoteEpoch, voted = a.snapshot(m)
		for e := out.WindowFrom; e <= out.WindowTo && out.WindowTo > 0; e++ {
			if sched.Leader(e) == m {
				v.LedSlots++
				if !filled[e] {
					v.MissedSlots++
				}
			}
			if e >= voteFrom && !voted(e) {
				v.MissedVotes++
			}
		}
		out.Validators = append(out.Validators, v)
	}
	return out
}
