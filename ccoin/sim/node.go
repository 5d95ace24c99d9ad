package sim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/syndtr/goleveldb/leveldb/storage"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/kv"
	kvleveldb "ccoin/ccoin/kv/leveldb"
	"ccoin/ccoin/txpool"
	"ccoin/ccoin/types"
)

// maxOrphans bounds the blocks a node holds while fetching their ancestors,
// as the real node bounds them.
const maxOrphans = 256

// held is a block kept until its parent arrives or its slot starts.
type held struct {
	b    *types.Block
	raw  []byte
	from int
}

// node is one simulated ccoin node: the real chain, pool, engine, sealer
// and slot guard over an in-memory LevelDB that survives its crashes, driven
// synchronously by the simulator instead of by goroutines and timers.
type node struct {
	s    *sim
	idx  int
	name string
	key  *crypto.PrivateKey // nil for a basic node
	byz  bool               // a byzantine validator (see byzantine.go)

	store    storage.Storage // survives crashes: what was synced stays
	guardDir string

	up        bool
	bootUntil int64 // simulated ms: a restarted validator does not vote before
	// killAfterVote, when set, crashes the node right after its next vote
	// and restarts it this many ms later.
	killAfterVote int64
	db            kv.Store
	chain         *chain.Chain
	pool          *txpool.Pool
	guard         *consensus.SlotGuard
	sealer        *consensus.Sealer
	ffg           *consensus.Finality
	voter         *consensus.Voter
	record        consensus.VoteRecord // the broken "forget-votes" mode keeps it in memory only

	orphans  map[types.Hash][]held // by missing parent
	norphan  int
	future   []held
	seenBlk  map[types.Hash]bool // relayed once
	seenTx   map[types.Hash]bool
	seenVote map[types.Hash]bool

	finalNum uint64 // highest final height seen, across restarts
	finalID  types.Hash
}

func (n *node) now() time.Time {
	return time.UnixMilli(int64(n.s.g.TimeMs) + n.s.now + n.s.sched.SkewMs[n.idx])
}

func (n *node) nowMs() uint64 { return uint64(n.now().UnixMilli()) }

// start opens the node on its stored database, as a process start does.
func (n *node) start() error {
	db, err := kvleveldb.OpenStorage(n.store)
	if err != nil {
		return fmt.Errorf("%s: open db: %w", n.name, err)
	}
	if _, err := chain.Init(db, n.s.g, n.s.genesisRaw); err != nil {
		db.Close()
		return fmt.Errorf("%s: init: %w", n.name, err)
	}
	store := chain.NewVoteStore(db)
	hdrs := &lateHeaders{}
	ffg, err := consensus.NewFinality(consensus.FinalityConfig{Genesis: n.s.g, Auth: simAuth{}, Headers: hdrs, DB: store})
	if err != nil {
		db.Close()
		return fmt.Errorf("%s: finality: %w", n.name, err)
	}
	pool := &poolRef{}
	cfg := chain.Config{Genesis: n.s.g, Verifier: n.s.engine, Keys: n.s.keys, Now: n.now, Finality: ffg, Pool: pool}
	c, err := chain.Open(db, cfg)
	if err != nil {
		db.Close()
		return fmt.Errorf("%s: open chain: %w", n.name, err)
	}
	hdrs.c = c
	n.db, n.chain, n.ffg = db, c, ffg
	if n.key != nil {
		rec := consensus.VoteRecord(store)
		if n.s.opts.Broken == "forget-votes" {
			rec = &memRecord{}
		}
		if n.voter, err = consensus.NewVoter(n.key.Address(), ffg, c, rec, simAuth{}); err != nil {
			return fmt.Errorf("%s: %w", n.name, err)
		}
	}
	// One key cache for every node, as one node shares it between pool and
	// chain: a signature is a pure function of its bytes, so remembering it
	// across simulated nodes changes nothing but the simulator's speed.
	head, _ := c.Head()
	n.pool = txpool.New(txpool.Config{ChainID: n.s.g.ChainID, Now: n.now, Keys: n.s.keys, Root: head.StateRoot}, c)
	pool.p = n.pool
	n.orphans, n.norphan, n.future = make(map[types.Hash][]held), 0, nil
	n.seenBlk, n.seenTx, n.seenVote = make(map[types.Hash]bool), make(map[types.Hash]bool), make(map[types.Hash]bool)
	if n.key != nil {
		if n.guard, err = consensus.OpenSlotGuard(filepath.Join(n.guardDir, "slot-guard")); err != nil {
			return fmt.Errorf("%s: %w", n.name, err)
		}
		n.sealer, err = consensus.NewSealer(consensus.SealerConfig{
			Engine: n.s.engine, Key: n.key, Guard: n.guard, Chain: sealerChain{n}, Pool: sealerPool{n.pool},
			Net: broadcaster{n}, Now: n.now, OnSealed: n.sealed,
		})
		if err != nil {
			return err
		}
	}
	n.up = true
	final, finalID := c.Finalized()
	n.noteFinal(final, finalID, "restart")
	return nil
}

// crash stops the node like kill -9: the database keeps its synced writes
// (every chain commit is synced), the pool and held blocks are gone.
func (n *node) crash() {
	if !n.up {
		return
	}
	n.up = false
	_ = n.db.Close()
	if n.guard != nil {
		_ = n.guard.Close()
	}
	n.db, n.chain, n.pool, n.guard, n.sealer, n.ffg, n.voter = nil, nil, nil, nil, nil, nil, nil
}

func (n *node) close() {
	n.crash()
	if n.guardDir != "" {
		_ = os.RemoveAll(n.guardDir)
	}
}

func (n *node) sealed(b *types.Block) { n.s.checkSeal(n, b) }

// tick runs the node's work at the start of its local slot.
func (n *node) tick(slot uint64) {
	if !n.up {
		return
	}
	due := n.future[:0:0]
	var keep []held
	for _, h := range n.future {
		if h.b.Header.Slot <= slot {
			due = append(due, h)
		} else {
			keep = append(keep, h)
		}
	}
	n.future = keep
	for _, h := range due {
		n.receiveBlock(h.from, h.raw)
	}
	if n.sealer != nil && slot <= n.s.sched.Slots {
		n.sealer.SealSlot(context.Background(), slot)
	}
	if n.voter != nil {
		n.s.at(n.s.now+int64(n.s.sched.IntervalMs*2/3), func() { n.vote(slot) })
	}
}

// receiveBlock handles a block from peer from (or -1 for none).
func (n *node) receiveBlock(from int, raw []byte) {
	b, err := types.DecodeBlock(raw)
	if err != nil {
		n.s.fail(n, "undecodable block from %d: %v", from, err)
		return
	}
	id := b.ID()
	if n.chain.HasBlock(id) {
		return
	}
	prevFinal := n.finalNum
	head, _ := n.chain.Head()
	res, err := n.chain.ImportBlock(b, raw)
	switch {
	case err == nil:
		n.afterImport(res, prevFinal, head.Number)
		n.relayBlock(from, id, raw)
		n.retryVotes()
		if n.voter != nil && b.Header.Slot == n.localSlot() {
			n.vote(b.Header.Slot) // the leader's block is in: no need to wait
		}
		n.adoptOrphans(id)
	case errors.Is(err, chain.ErrKnownBlock):
	case errors.Is(err, chain.ErrUnknownParent):
		if b.Header.Number <= n.finalNum+1 {
			// Its parent sits at or below our final height and is not our
			// final chain's: the branch leaves our final block. Fetching it
			// would walk back a chain we must refuse anyway.
			return
		}
		if n.norphan < maxOrphans {
			n.orphans[b.Header.Parent] = append(n.orphans[b.Header.Parent], held{b, raw, from})
			n.norphan++
		}
		if from >= 0 {
			n.s.send(n.idx, from, msg{kind: mGetBlock, id: b.Header.Parent})
		}
	case errors.Is(err, consensus.ErrFuture):
		if len(n.future) < maxOrphans {
			n.future = append(n.future, held{b, raw, from})
		}
	case errors.Is(err, consensus.ErrFarFuture), errors.Is(err, chain.ErrBelowFinalized):
		n.s.trace("%s ignores block %d %s: %v", n.name, b.Header.Number, id, err)
	default:
		// Honest nodes only send valid blocks: anything else is a bug.
		n.s.fail(n, "rejected block %d %s from %d: %v", b.Header.Number, id, from, err)
	}
}

func (n *node) adoptOrphans(parent types.Hash) {
	kids := n.orphans[parent]
	if len(kids) == 0 {
		return
	}
	delete(n.orphans, parent)
	n.norphan -= len(kids)
	for _, k := range kids {
		n.receiveBlock(k.from, k.raw)
	}
}

func (n *node) relayBlock(from int, id types.Hash, raw []byte) {
	if n.seenBlk[id] {
		return
	}
	n.seenBlk[id] = true
	n.broadcast(from, msg{kind: mBlock, raw: raw})
}

// afterImport does what the node does after any commit: return abandoned
// transactions to the pool, refresh it, and record finality.
func (n *node) afterImport(res *chain.Result, prevFinal, oldHead uint64) {
	if res.Reorg != nil {
		ancestor := oldHead - res.Reorg.Depth
		if ancestor < prevFinal {
			n.s.fail(n, "reorganised to height %d, below its final height %d", ancestor, prevFinal)
		}
	}
	if res.Finalized != nil {
		n.noteFinal(res.Finalized, res.FinalizedID, "import")
	}
	if res.Head {
		h := txpool.Head{Root: res.Header.StateRoot, Touched: res.Touched}
		if res.Reorg != nil {
			h.Abandoned = res.Reorg.Abandoned
		}
		n.pool.Reset(h)
	}
}

// noteFinal checks and records a node's final block: it never goes back,
// and every height up to it agrees with what every other node called final.
func (n *node) noteFinal(h *types.Header, id types.Hash, why string) {
	if h.Number < n.finalNum {
		n.s.fail(n, "final height went back from %d to %d (%s)", n.finalNum, h.Number, why)
		return
	}
	if h.Number == n.finalNum {
		if id != n.finalID && n.finalNum > 0 {
			n.s.fail(n, "final block at %d changed from %s to %s (%s)", h.Number, n.finalID, id, why)
		}
		return
	}
	// Walk back to the previous final height, recording each block.
	cur, curID := h, id
	for cur.Number > n.finalNum {
		n.s.recordFinal(n, cur.Number, curID)
		if cur.Number == 1 {
			break
		}
		pid := cur.Parent
		p, err := n.chain.Header(pid)
		if err != nil {
			n.s.fail(n, "final block %d's parent %s: %v", cur.Number, pid, err)
			return
		}
		cur, curID = p, pid
	}
	if n.finalNum > 0 && cur.Number == n.finalNum && curID != n.finalID {
		n.s.fail(n, "new final block %d does not descend from its old final block %d", h.Number, n.finalNum)
	}
	n.finalNum, n.finalID = h.Number, id
}

func (n *node) receiveTxs(from int, raws [][]byte) {
	txs := make([]*types.Transaction, 0, len(raws))
	for _, raw := range raws {
		tx, err := types.DecodeTx(raw)
		if err != nil {
			n.s.fail(n, "undecodable tx: %v", err)
			return
		}
		txs = append(txs, tx)
	}
	var relay [][]byte
	for i, err := range n.pool.Add(txs) {
		if err == nil {
			n.s.accept(txs[i])
			if !n.seenTx[txs[i].ID()] {
				n.seenTx[txs[i].ID()] = true
				relay = append(relay, raws[i])
			}
		}
	}
	if len(relay) == 0 {
		return
	}
	n.broadcast(from, msg{kind: mTxs, raws: relay})
}

// sealerChain routes the sealer's own blocks through the node's post-import
// work, as the real node does.
type sealerChain struct{ n *node }

func (c sealerChain) Head() (*types.Header, types.Hash) { return c.n.chain.Head() }
func (c sealerChain) BuildBlock(parent types.Hash, h types.Header, txs []*types.Transaction) (*types.Block, error) {
	return c.n.chain.BuildBlock(parent, h, txs)
}
func (c sealerChain) ImportOwn(b *types.Block) error {
	prevFinal := c.n.finalNum
	head, _ := c.n.chain.Head()
	res, err := c.n.chain.ImportOwn(b)
	if err != nil {
		return err
	}
	c.n.afterImport(res, prevFinal, head.Number)
	c.n.seenBlk[res.ID] = true
	return nil
}

type sealerPool struct{ p *txpool.Pool }

func (s sealerPool) Pending(max int) []*types.Transaction { return s.p.Pending(max) }
func (s sealerPool) PendingCount() int                    { return s.p.Stats().Pending }

type broadcaster struct{ n *node }

func (b broadcaster) BroadcastBlock(raw []byte) {
	if b.n.byz {
		b.n.equivocate(raw)
		return
	}
	b.n.broadcast(-1, msg{kind: mBlock, raw: raw})
}

func (n *node) localSlot() uint64 { return n.s.engine.Schedule().SlotAt(n.nowMs()) }

// vote casts this validator's vote for epoch, if the rule allows one.
func (n *node) vote(epoch uint64) {
	if !n.up || n.voter == nil || n.s.now < n.bootUntil {
		return
	}
	if n.byz {
		n.byzantineVotes(epoch)
		return
	}
	_, headID := n.chain.Head()
	v, err := n.voter.Vote(epoch, headID)
	if err != nil {
		if !errors.Is(err, consensus.ErrNoVote) {
			n.s.fail(n, "vote for epoch %d: %v", epoch, err)
		}
		return
	}
	n.s.checkVote(n, v)
	raw := v.Encode(nil)
	n.receiveVote(-1, raw)
	if d := n.killAfterVote; d > 0 {
		n.killAfterVote = 0
		n.s.at(n.s.now, func() { n.s.kill(n, d) }) // once this event is done
	}
}

// receiveVote counts a vote from peer from (-1: our own) and relays it
// once.
func (n *node) receiveVote(from int, raw []byte) {
	v, err := types.DecodeVote(raw)
	if err != nil {
		n.s.fail(n, "undecodable vote: %v", err)
		return
	}
	id := v.ID()
	if n.seenVote[id] {
		return
	}
	ch, err := n.ffg.AddVote(v, n.localSlot())
	switch {
	case err == nil:
	case errors.Is(err, consensus.ErrVoteUnknownBlock):
		if from >= 0 {
			for _, bid := range []types.Hash{v.Target.ID, v.Source.ID} {
				if !n.chain.HasBlock(bid) {
					n.s.send(n.idx, from, msg{kind: mGetBlock, id: bid})
				}
			}
		}
	case errors.Is(err, consensus.ErrVoteKnown), errors.Is(err, consensus.ErrVoteStale), errors.Is(err, consensus.ErrVoteFarFuture):
		n.seenVote[id] = true
		return
	default:
		n.s.fail(n, "refused a vote from %d: %v", from, err)
		return
	}
	n.seenVote[id] = true
	n.broadcast(from, msg{kind: mVote, raw: raw})
	if ch.NeedSource != nil && from >= 0 {
		n.s.send(n.idx, from, msg{kind: mGetJust, cp: *ch.NeedSource})
	}
	if len(ch.Justified) > 0 || ch.Final {
		n.refresh()
	}
}

// retryVotes counts votes that waited for blocks.
func (n *node) retryVotes() {
	if !n.ffg.HasPending() {
		return
	}
	ch, err := n.ffg.Retry()
	if err != nil {
		n.s.fail(n, "retry votes: %v", err)
		return
	}
	for _, v := range ch.Counted {
		raw := v.Encode(nil)
		n.broadcast(-1, msg{kind: mVote, raw: raw})
	}
	if len(ch.Justified) > 0 || ch.Final {
		n.refresh()
	}
}

// refresh re-runs fork choice after finality learned something.
func (n *node) refresh() {
	prevFinal := n.finalNum
	head, _ := n.chain.Head()
	res, err := n.chain.Refresh()
	if err != nil {
		n.s.fail(n, "refresh: %v", err)
		return
	}
	if res != nil {
		n.afterImport(res, prevFinal, head.Number)
	}
}

func (n *node) receiveCert(from int, raw []byte) {
	c, err := types.DecodeCertificate(raw)
	if err != nil {
		n.s.fail(n, "undecodable certificate: %v", err)
		return
	}
	advanced, err := n.ffg.AddCertificate(c)
	if err != nil {
		n.s.fail(n, "refused a certificate from %d: %v", from, err)
		return
	}
	if !advanced {
		return
	}
	if id := c.Header.ID(); !n.chain.HasBlock(id) {
		n.s.send(n.idx, from, msg{kind: mGetBlock, id: id})
	}
	n.refresh()
}

// lateHeaders lets finality read headers from a chain opened after it.
type lateHeaders struct{ c *chain.Chain }

func (l *lateHeaders) Header(id types.Hash) (*types.Header, error) { return l.c.Header(id) }

// memRecord forgets the last vote at every restart: the planted bug of
// the "forget-votes" mode.
type memRecord struct{ last *types.Vote }

func (m *memRecord) LastVote() (*types.Vote, error) { return m.last, nil }
func (m *memRecord) SaveVote(v *types.Vote) error   { m.last = v; return nil }

// poolRef lets the chain skip signatures its pool already checked, as the
// node wires it (the pool is built on the chain, so after it).
type poolRef struct{ p *txpool.Pool }

func (r *poolRef) Get(id types.Hash) (*types.Transaction, bool) { return r.p.Get(id) }

// broadcast sends m to every other node except the one it came from
// (-1: none).
func (n *node) broadcast(except int, m msg) {
	for j := range n.s.nodes {
		if j != n.idx && j != except {
			n.s.send(n.idx, j, m)
		}
	}
}
