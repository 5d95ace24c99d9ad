package sim

import (
	"container/heap"
	"fmt"
	"hash/fnv"
	"io"
	"math/bits"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/syndtr/goleveldb/leveldb/storage"

	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

// Options change how a schedule runs, not what it is.
type Options struct {
	// Broken plants a known bug so a test can show the simulator catches
	// it. "quorum": every node finalizes with one signer fewer than the
	// rule says. "forget-votes": a validator keeps its last vote only in
	// memory, so after a restart it may vote against its earlier votes.
	Broken string
	// Trace, when set, gets a line per notable event.
	Trace io.Writer
}

// Result is what one run found.
type Result struct {
	Seed       uint64
	Violations []string // safety and bank invariants broken
	Liveness   []string // after healing, the network did not converge or finality did not advance
	Blocks     int      // blocks sealed
	Final      uint64   // lowest final height at the end
	Elapsed    time.Duration
	Trace      uint64 // hash of every event: equal for equal runs
}

// Failed reports whether the run broke any invariant.
func (r *Result) Failed() bool { return len(r.Violations) > 0 || len(r.Liveness) > 0 }

type msgKind int

const (
	mBlock msgKind = iota
	mGetBlock
	mTxs
	mStatus
	mVote
	mGetJust // ask for the votes that justified cp
	mGetCert // ask for the newest certificate
	mCert
)

type msg struct {
	kind msgKind
	raw  []byte
	raws [][]byte
	id   types.Hash
	cp   types.Checkpoint
}

type event struct {
	at  int64 // ms since the genesis time
	seq uint64
	fn  func()
}

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type sealKey struct {
	sealer crypto.Address
	slot   uint64
}

type finalRec struct {
	id   types.Hash
	node string
}

// sim is one run: a single goroutine pops events in time order, so a seed
// always gives the same run.
type sim struct {
	sched      Schedule
	opts       Options
	g          *genesis.Genesis
	genesisRaw []byte
	engine     *consensus.Engine
	keys       *crypto.KeyCache
	users      []*crypto.PrivateKey

	now   int64
	q     eventQueue
	seq   uint64
	rng   *rand.Rand
	nodes []*node
	incar []int // per node, bumped at each crash: in-flight messages die with the connection

	finalAt    map[uint64]finalRec
	sealedBy   map[sealKey]types.Hash
	votesBy    map[crypto.Address][]*types.Vote // every vote each validator signed
	acceptedTx map[types.Hash]*types.Transaction
	acceptOrd  []types.Hash
	nextNonce  []uint64 // per user: the client's next nonce
	res        *Result
	hash       uint64
}

const drainSlots = 6 // after sealing stops, messages settle before the checks

// Run plays a schedule and checks every invariant.
func Run(sched Schedule, opts Options) (*Result, error) {
	start := time.Now()
	s, err := newSim(sched, opts)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if err := s.run(); err != nil {
		return nil, err
	}
	s.res.Elapsed = time.Since(start)
	s.res.Trace = s.hash
	return s.res, nil
}

func newSim(sched Schedule, opts Options) (*sim, error) {
	keys, err := simKeys()
	if err != nil {
		return nil, err
	}
	if sched.Validators > maxValidators || sched.Validators < 1 {
		return nil, fmt.Errorf("sim: %d validators, want 1 to %d", sched.Validators, maxValidators)
	}
	net, err := network(sched.Validators, sched.Finality, sched.IntervalMs)
	if err != nil {
		return nil, err
	}
	g := net.g
	if opts.Broken == "quorum" {
		cp := *g
		cp.Quorum = max(1, g.Quorum-1)
		g = &cp
	}
	s := &sim{
		sched: sched, opts: opts, g: g, genesisRaw: net.raw,
		keys:       crypto.NewKeyCache(64),
		users:      keys[maxValidators : maxValidators+nUsers],
		rng:        rand.New(rand.NewPCG(sched.Seed, 0xfeed)),
		finalAt:    make(map[uint64]finalRec),
		sealedBy:   make(map[sealKey]types.Hash),
		votesBy:    make(map[crypto.Address][]*types.Vote),
		acceptedTx: make(map[types.Hash]*types.Transaction),
		res:        &Result{Seed: sched.Seed},
		hash:       fnvOffset,
	}
	s.engine = consensus.NewEngine(g, s.keys).WithSealAuth(simSeals{})
	s.nextNonce = make([]uint64, nUsers)
	for i := range s.nextNonce {
		s.nextNonce[i] = 1
	}
	s.incar = make([]int, sched.Nodes())
	for i := range sched.Nodes() {
		n := &node{s: s, idx: i, name: sched.nodeName(i), store: storage.NewMemStorage()}
		if i < sched.Validators {
			n.key = keys[i]
			n.byz = slices.Contains(sched.Byzantine, i)
			if n.guardDir, err = os.MkdirTemp(tmpBase(), "ccoin-sim-"); err != nil {
				s.close()
				return nil, err
			}
		}
		s.nodes = append(s.nodes, n)
		if err := n.start(); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// tmpBase prefers a memory file system: the slot guard syncs on every claim.
func tmpBase() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}

func (s *sim) close() {
	for _, n := range s.nodes {
		n.close()
	}
}

func (s *sim) at(t int64, fn func()) {
	s.seq++
	heap.Push(&s.q, event{at: t, seq: s.seq, fn: fn})
}

func (s *sim) slotStart(slot uint64) int64 { return int64(slot * s.sched.IntervalMs) }

func (s *sim) slot() uint64 {
	if s.now < 0 {
		return 0
	}
	return uint64(s.now) / s.sched.IntervalMs
}

const fnvOffset = 14695981039346656037

func (s *sim) mix(vals ...uint64) {
	h := fnv.New64a()
	var b [8]byte
	for _, v := range append([]uint64{s.hash, uint64(s.now)}, vals...) {
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		h.Write(b[:])
	}
	s.hash = h.Sum64()
}

func (s *sim) trace(format string, args ...any) {
	if s.opts.Trace != nil {
		fmt.Fprintf(s.opts.Trace, "%8d ms slot %4d  %s\n", s.now, s.slot(), fmt.Sprintf(format, args...))
	}
}

func (s *sim) fail(n *node, format string, args ...any) {
	v := fmt.Sprintf("slot %d, %s: %s", s.slot(), n.name, fmt.Sprintf(format, args...))
	s.trace("VIOLATION %s", v)
	if len(s.res.Violations) < 20 {
		s.res.Violations = append(s.res.Violations, v)
	}
}

func (s *sim) recordFinal(n *node, height uint64, id types.Hash) {
	if r, ok := s.finalAt[height]; ok {
		if r.id != id {
			s.fail(n, "conflicting finality at height %d: %s final %s, %s final %s", height, r.node, r.id, n.name, id)
		}
		return
	}
	s.finalAt[height] = finalRec{id: id, node: n.name}
	s.trace("%s: height %d final (%s)", n.name, height, id)
}

func (s *sim) checkSeal(n *node, b *types.Block) {
	s.res.Blocks++
	id := b.ID()
	s.mix(uint64(n.idx), b.Header.Slot, uint64(id[0])|uint64(id[1])<<8|uint64(id[2])<<16)
	s.trace("%s sealed block %d slot %d on %s (%s), %d txs", n.name, b.Header.Number, b.Header.Slot, b.Header.Parent, id, len(b.Txs))
	k := sealKey{b.Header.Sealer, b.Header.Slot}
	if prev, ok := s.sealedBy[k]; ok && prev != id && !n.byz {
		s.fail(n, "signed two blocks for slot %d: %s and %s", b.Header.Slot, prev, id)
	}
	s.sealedBy[k] = id
}

// checkVote holds honest validators to the voting rule directly: no two
// votes with one target epoch, none surrounding another (RELIABILITY.md:
// checking offences is sharper than waiting for conflicting finality).
func (s *sim) checkVote(n *node, v *types.Vote) {
	s.mix(uint64(n.idx), v.Source.Epoch, v.Target.Epoch, uint64(v.Target.ID[0]))
	s.trace("%s votes %s -> %s", n.name, v.Source, v.Target)
	for _, o := range s.votesBy[v.Voter] {
		switch {
		case o.Target.Epoch == v.Target.Epoch && (o.Target.ID != v.Target.ID || o.Source != v.Source):
			s.fail(n, "double vote for epoch %d: %s -> %s and %s -> %s", v.Target.Epoch, o.Source, o.Target, v.Source, v.Target)
		case o.Source.Epoch < v.Source.Epoch && v.Target.Epoch < o.Target.Epoch,
			v.Source.Epoch < o.Source.Epoch && o.Target.Epoch < v.Target.Epoch:
			s.fail(n, "surround vote: %s -> %s and %s -> %s", o.Source, o.Target, v.Source, v.Target)
		}
	}
	s.votesBy[v.Voter] = append(s.votesBy[v.Voter], v)
}

func (s *sim) accept(tx *types.Transaction) {
	id := tx.ID()
	if _, ok := s.acceptedTx[id]; !ok {
		s.acceptedTx[id] = tx
		s.acceptOrd = append(s.acceptOrd, id)
	}
}

// send puts a message on the link from -> to under the faults active now.
func (s *sim) send(from, to int, m msg) {
	slot := s.slot()
	delay := s.sched.LinkMs[from][to]
	delay += s.rng.Int64N(delay + 1) // jitter reorders messages
	for _, f := range s.sched.Faults {
		if slot < f.From || slot >= f.To {
			continue
		}
		fwd := slices.Contains(f.A, from) && slices.Contains(f.B, to)
		back := slices.Contains(f.B, from) && slices.Contains(f.A, to)
		switch f.Kind {
		case Partition:
			if fwd || back {
				return
			}
		case OneWay:
			if fwd {
				return
			}
		case Loss:
			if fwd && s.rng.IntN(100) < f.LossPct {
				return
			}
		case Delay:
			if fwd {
				delay += f.DelayMs
			}
		}
	}
	inc := s.incar[to]
	s.at(s.now+delay, func() {
		n := s.nodes[to]
		if !n.up || s.incar[to] != inc {
			return
		}
		s.mix(uint64(from), uint64(to), uint64(m.kind))
		s.deliver(n, from, m)
	})
}

func (s *sim) deliver(n *node, from int, m msg) {
	switch m.kind {
	case mBlock:
		n.receiveBlock(from, m.raw)
	case mTxs:
		n.receiveTxs(from, m.raws)
	case mGetBlock:
		if raw, err := n.chain.RawBlock(m.id); err == nil {
			s.send(n.idx, from, msg{kind: mBlock, raw: raw})
		}
	case mStatus:
		if !n.chain.HasBlock(m.id) {
			s.send(n.idx, from, msg{kind: mGetBlock, id: m.id})
		}
		if m.cp.Epoch > n.ffg.Final().Epoch {
			s.send(n.idx, from, msg{kind: mGetCert})
		}
	case mVote:
		n.receiveVote(from, m.raw)
	case mGetJust:
		for _, v := range n.ffg.Justification(m.cp) {
			s.send(n.idx, from, msg{kind: mVote, raw: v.Encode(nil)})
		}
	case mGetCert:
		if c := n.ffg.Certificate(); c != nil {
			s.send(n.idx, from, msg{kind: mCert, raw: c.Encode(nil)})
		}
	case mCert:
		n.receiveCert(from, m.raw)
	}
}

func (s *sim) run() error {
	sc := &s.sched
	end := s.slotStart(sc.Slots + drainSlots)
	// Slot ticks at each node's local slot start, skew included.
	for i, n := range s.nodes {
		s.scheduleTick(n, 1, sc.SkewMs[i])
	}
	// Status announcements: the sync a real node does with its peers' heads.
	for slot := uint64(4); slot < sc.Slots+drainSlots; slot += 4 {
		s.at(s.slotStart(slot)+int64(sc.IntervalMs/2), s.announce)
	}
	// Clients: transfers at random moments, and resubmission of what they
	// were told was accepted but do not see included.
	for slot := uint64(1); slot < sc.Slots-2; slot++ {
		k := int(sc.TxPerSlot)
		if s.rng.Float64() < sc.TxPerSlot-float64(k) {
			k++
		}
		for range k {
			s.at(s.slotStart(slot)+s.rng.Int64N(int64(sc.IntervalMs)), s.submit)
		}
		if slot%10 == 0 {
			s.at(s.slotStart(slot)+int64(sc.IntervalMs/3), s.resubmit)
		}
	}
	// Crashes strike at a random moment of their slot or, for half of
	// them, right after the node's vote in it (the moment its vote
	// record exists for); the node restarts DownMs later.
	for _, f := range sc.Faults {
		if f.Kind != Crash {
			continue
		}
		n := s.nodes[f.A[0]]
		if n.key != nil && s.rng.IntN(2) == 0 {
			s.at(s.slotStart(f.From), func() { n.killAfterVote = f.DownMs })
			s.at(s.slotStart(f.From+1), func() { n.killAfterVote = 0 })
			continue
		}
		s.at(s.slotStart(f.From)+s.rng.Int64N(int64(sc.IntervalMs)), func() { s.kill(n, f.DownMs) })
	}
	var healFinal uint64
	s.at(s.slotStart(sc.HealAt), func() {
		for _, n := range s.nodes {
			healFinal = max(healFinal, n.finalNum)
		}
	})
	for s.q.Len() > 0 {
		e := heap.Pop(&s.q).(event)
		if e.at > end {
			break
		}
		s.now = e.at
		e.fn()
	}
	s.check(healFinal)
	return nil
}

// kill crashes n now and restarts it downMs later (by the heal at the
// latest).
func (s *sim) kill(n *node, downMs int64) {
	if !n.up {
		return
	}
	s.trace("%s killed", n.name)
	s.incar[n.idx]++
	n.crash()
	s.at(min(s.now+downMs, s.slotStart(s.sched.HealAt)), func() {
		if n.up {
			return
		}
		s.trace("%s restarted", n.name)
		if err := n.start(); err != nil {
			s.fail(n, "restart: %v", err)
			return
		}
		// Connecting exchanges heads (the real handshake's status), and a
		// restarted validator votes only once it has booted, as the real
		// node waits for sync: at two thirds of the current slot, or at
		// once if that has passed. Meanwhile late blocks and votes change
		// its view, which is what makes a forgotten vote record sign a
		// conflicting vote.
		for j := range s.nodes {
			if j != n.idx && s.nodes[j].up {
				s.status(j, n.idx)
				s.status(n.idx, j)
			}
		}
		n.bootUntil = s.now + int64(s.sched.IntervalMs/10)
		slot := n.localSlot()
		due := s.slotStart(slot) + int64(s.sched.IntervalMs*2/3) - s.sched.SkewMs[n.idx]
		s.at(max(due, n.bootUntil), func() {
			if n.localSlot() == slot {
				n.vote(slot)
			}
		})
	})
}

func (s *sim) scheduleTick(n *node, slot uint64, skew int64) {
	if slot > s.sched.Slots+drainSlots {
		return
	}
	s.at(s.slotStart(slot)-skew, func() {
		n.tick(slot)
		s.scheduleTick(n, slot+1, skew)
	})
}

func (s *sim) announce() {
	for i, n := range s.nodes {
		if !n.up {
			continue
		}
		for j := range s.nodes {
			if j != i {
				s.status(i, j)
			}
		}
	}
}

// status sends node i's head and final checkpoint to node j.
func (s *sim) status(i, j int) {
	_, id := s.nodes[i].chain.Head()
	s.send(i, j, msg{kind: mStatus, id: id, cp: s.nodes[i].ffg.Final()})
}

func (s *sim) submit() {
	u := s.rng.IntN(nUsers)
	n := s.nodes[s.rng.IntN(len(s.nodes))]
	if !n.up {
		return
	}
	tx, raw, err := userTx(s.g, s.users, u, s.nextNonce[u])
	if err != nil {
		s.fail(n, "sign: %v", err)
		return
	}
	if errs := n.pool.Add([]*types.Transaction{tx}); errs[0] != nil {
		return // the client retries the same nonce later
	}
	s.nextNonce[u]++
	n.receiveTxs(-1, [][]byte{raw}) // relays it (the pool already holds it)
	s.accept(tx)
}

// resubmit hands every accepted transaction the target node has neither
// included nor pooled back to it, as a wallet does after a node restarts.
func (s *sim) resubmit() {
	n := s.nodes[s.rng.IntN(len(s.nodes))]
	if !n.up {
		return
	}
	var raws [][]byte
	for _, id := range s.acceptOrd {
		tx := s.acceptedTx[id]
		if n.pool.Has(id) {
			continue
		}
		if _, _, err := n.chain.TxLocation(id); err == nil {
			continue
		}
		raws = append(raws, tx.Encode(nil))
		if len(raws) == 64 {
			break
		}
	}
	if len(raws) > 0 {
		n.receiveTxs(-1, raws)
	}
}

// check runs the end-of-run invariants: the bank at every node's final
// block, every accepted transaction accounted for, and liveness after heal.
func (s *sim) check(healFinal uint64) {
	var heads []types.Hash
	s.res.Final = ^uint64(0)
	for _, n := range s.nodes {
		if !n.up {
			s.res.Liveness = append(s.res.Liveness, n.name+" is still down")
			continue
		}
		s.checkBank(n)
		_, hid := n.chain.Head()
		heads = append(heads, hid)
		s.res.Final = min(s.res.Final, n.finalNum)
		if n.finalNum <= healFinal {
			s.res.Liveness = append(s.res.Liveness, fmt.Sprintf("%s: final height %d did not advance after heal (%d at heal)", n.name, n.finalNum, healFinal))
		}
	}
	for i := 1; i < len(heads); i++ {
		if heads[i] != heads[0] {
			s.res.Liveness = append(s.res.Liveness, fmt.Sprintf("heads differ %d slots after the last seal: %s has %s, %s has %s",
				drainSlots, s.nodes[0].name, heads[0], s.nodes[i].name, heads[i]))
			break
		}
	}
}

func (s *sim) checkBank(n *node) {
	final, _ := n.chain.Finalized()
	var (
		after      *crypto.Address
		sum, carry uint64
	)
	for {
		addrs, accs, more, err := n.chain.AccountsAt(final.StateRoot, after, 256)
		if err != nil {
			s.fail(n, "bank: accounts at final block %d: %v", final.Number, err)
			return
		}
		for i := range addrs {
			var c uint64
			sum, c = bits.Add64(sum, accs[i].Balance, 0)
			carry += c
		}
		if !more || len(addrs) == 0 {
			break
		}
		last := addrs[len(addrs)-1]
		after = &last
	}
	want := s.g.TotalAlloc() + s.g.File.BlockMining.Reward*(final.Number-1)
	if carry != 0 || sum != want {
		s.fail(n, "bank: total balance %d (carry %d) at final block %d, want %d", sum, carry, final.Number, want)
	}
	// Every transaction on the canonical chain once; every accepted one
	// included or still pending somewhere.
	head, _ := n.chain.Head()
	seen := make(map[types.Hash]uint64)
	for h := uint64(2); h <= head.Number; h++ {
		b, err := n.chain.BlockByNumber(h)
		if err != nil {
			s.fail(n, "bank: block %d: %v", h, err)
			return
		}
		for _, tx := range b.Txs {
			id := tx.ID()
			if at, dup := seen[id]; dup {
				s.fail(n, "bank: transaction %s applied twice (blocks %d and %d)", id, at, h)
			}
			seen[id] = h
		}
	}
	for _, id := range s.acceptOrd {
		if _, ok := seen[id]; ok {
			continue
		}
		pooled := false
		for _, o := range s.nodes {
			if o.up && o.pool.Has(id) {
				pooled = true
				break
			}
		}
		if !pooled {
			s.fail(n, "bank: accepted transaction %s neither included nor pending anywhere", id)
			return
		}
	}
}
