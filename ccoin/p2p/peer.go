package p2p

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"ccoin/ccoin/clock"
	"ccoin/ccoin/p2p/wire"

	"github.com/hashicorp/go-hclog"
)

// Per-peer bounds.
const (
	sendQueueLen     = 1024     // frames waiting for the writer
	txEntryCost      = 64       // what a queued tx costs beyond its bytes (slice header, slack): tiny txs are bounded too
	knownSetSize     = 16384    // gossip keys remembered per peer
	maxPendingReqs   = 64       // requests in flight to one peer
	expiredRing      = 128      // timed-out request ids whose late answers are ignored
	writeBatchFrames = 64       // frames written before a flush
	maxQueueBytes    = 32 << 20 // bytes of our own frames (gossip, requests) waiting to be sent
	smallAnswer      = 512      // budget reserved for an answer that is never large (BLH, ADR, PON)
)

type frame struct {
	header string
	body   []byte
	answer int64 // > 0: an answer to the peer, holding this much of the send budgets
}

type pendingReq struct {
	want string // expected answer header
	ch   chan wire.Answer
}

// peer is one connected, handshaken peer.
type peer struct {
	n        *Network
	conn     net.Conn // the TLS connection
	log      hclog.Logger
	host     string // remote IP (or memnet host)
	loopback bool
	dialed   string // the address we dialed, for outbound peers
	valid    bool   // NodeAddress is a genesis validator

	out    chan frame
	queued atomic.Int64 // bytes of our own frames in out
	txKick chan struct{}
	closed chan struct{}
	once   sync.Once

	// Answers to the peer's requests: how many and how many bytes are
	// queued (the reader alone adds, the writer subtracts), within
	// answerCap and Config.MaxServing; the writer signals drained.
	answerBytes atomic.Int64
	serving     atomic.Int32
	answerCap   int64
	stranger    bool // inbound non-validator: also within Network.strangers
	drained     chan struct{}

	sendMu sync.Mutex // orders queueing against the final drain
	dead   bool       // drained: nothing more is queued

	// For watchIdle, in UnixNano on the network's clock: since when the
	// reader has been waiting for a frame, and the writer writing (0: not).
	readSince  atomic.Int64
	writeSince atomic.Int64

	mu      sync.Mutex
	info    PeerInfo
	reason  string
	known   *keySet
	txq     [][]byte
	txBytes int  // cost of txq, within txCap (see queueTxs)
	txCap   int  // Config.TxBacklog, or an eighth of it for strangers
	txHigh  bool // txBytes passed TxBacklogHigh and has not yet fallen to half of it
	txDone  bool // closed: nothing more is queued
	pending map[uint64]*pendingReq
	expired [expiredRing]uint64
	expNext int
}

func newPeer(n *Network, conn net.Conn, info PeerInfo, dialed string) *peer {
	host, loopback := remoteHost(conn.RemoteAddr())
	p := &peer{
		n:        n,
		conn:     conn,
		host:     host,
		loopback: loopback,
		dialed:   dialed,
		valid:    n.validators[info.NodeAddress],
		out:      make(chan frame, sendQueueLen),
		txKick:   make(chan struct{}, 1),
		closed:   make(chan struct{}),
		drained:  make(chan struct{}, 1),
		info:     info,
		known:    newKeySet(knownSetSize),
		pending:  make(map[uint64]*pendingReq),
	}
	// Strangers that dialled us get a small share: they are free to make.
	p.answerCap = int64(n.cfg.PeerSendBuffer)
	p.txCap = n.cfg.TxBacklog
	if info.Inbound && !p.valid {
		p.stranger = true
		p.answerCap = int64(n.cfg.InboundSendBuffer)
		p.txCap = n.cfg.TxBacklog / 8
	}
	p.log = n.log.With("peer", info.NodeAddress.String(), "remote-addr", info.RemoteAddr, "inbound", info.Inbound)
	return p
}

func (p *peer) snapshot() PeerInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.info
}

// close disconnects the peer once; the first reason wins.
func (p *peer) close(reason string) {
	p.once.Do(func() {
		p.mu.Lock()
		p.reason = reason
		p.dropTxsLocked()
		p.mu.Unlock()
		close(p.closed)
		p.conn.Close()
	})
}

func (p *peer) isClosed() bool {
	select {
	case <-p.closed:
		return true
	default:
		return false
	}
}

// misbehave bans the peer (its proven address and, off loopback, its IP)
// and disconnects it.
func (p *peer) misbehave(reason string) {
	if p.isClosed() {
		return
	}
	p.log.Warn("peer misbehaved", "reason", reason)
	p.n.banIdentity(p.info.NodeAddress, p.host, p.loopback, fmt.Sprintf("%s (remote-addr %s)", reason, p.info.RemoteAddr))
	p.close("banned: " + reason)
}

// markKnown records a gossip key; it reports whether it was new.
func (p *peer) markKnown(k uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.known.add(k)
}

// enqueue hands one of our own frames (gossip, a request, PEX) to the
// writer without ever blocking: a peer whose queue is full cannot keep up
// and is dropped.
func (p *peer) enqueue(header string, body []byte) bool {
	if p.isClosed() {
		return false
	}
	if p.queued.Add(int64(len(body))) > maxQueueBytes {
		p.queued.Add(-int64(len(body)))
		p.log.Warn("dropping slow peer", "reason", "send queue full")
		p.close("send queue full")
		return false
	}
	return p.push(frame{header: header, body: body})
}

// push queues f, or undoes its accounting if the peer is gone.
func (p *peer) push(f frame) bool {
	p.sendMu.Lock()
	ok := false
	if !p.dead {
		select {
		case p.out <- f:
			ok = true
		default:
		}
	}
	dead := p.dead
	p.sendMu.Unlock()
	if !ok {
		p.sent(f)
		if !dead {
			p.log.Warn("dropping slow peer", "reason", "send queue full")
			p.close("send queue full")
		}
	}
	return ok
}

// sent releases what a frame held once it is written or dropped.
func (p *peer) sent(f frame) {
	if f.answer == 0 {
		p.queued.Add(-int64(len(f.body)))
		return
	}
	p.answerBytes.Add(-f.answer)
	p.serving.Add(-1)
	p.release(f.answer)
	select {
	case p.drained <- struct{}{}:
	default:
	}
}

// drain releases every frame still queued once the writer has stopped.
func (p *peer) drain() {
	p.sendMu.Lock()
	p.dead = true
	p.sendMu.Unlock()
	for {
		select {
		case f := <-p.out:
			p.sent(f)
		default:
			return
		}
	}
}

// take takes size bytes of the node's budgets if they fit: strangers
// (inbound non-validators) together may hold only half of SendBuffer, so
// validators and the peers we chose are always served.
func (p *peer) take(size int64) (bool, <-chan struct{}) {
	if p.stranger {
		if ok, freed := p.n.strangers.tryTake(size); !ok {
			return false, freed
		}
	}
	ok, freed := p.n.budget.tryTake(size)
	if !ok && p.stranger {
		p.n.strangers.release(size)
	}
	return ok, freed
}

func (p *peer) release(size int64) {
	if p.stranger {
		p.n.strangers.release(size)
	}
	p.n.budget.release(size)
}

// reserve waits until an answer of up to size bytes fits the peer's
// answer budget (count and bytes) and the node's, and takes it. Only the
// reader calls it, so while it waits the peer is not read: a peer that
// asks and never reads is pushed back by TCP, and dropped once none of its
// queued answers has been sent for IdleTimeout. A peer with nothing queued
// that waits for the node's budget is not at fault and is not dropped.
// It reports false if the peer is gone.
func (p *peer) reserve(size int64) bool {
	clk := p.n.cfg.Clock
	deadline := clk.Now().Add(p.n.cfg.IdleTimeout)
	for {
		var freed <-chan struct{}
		if p.serving.Load() < int32(p.n.cfg.MaxServing) {
			q := p.answerBytes.Load()
			if q == 0 || q+size <= p.answerCap {
				ok, f := p.take(size)
				if ok {
					p.serving.Add(1)
					p.answerBytes.Add(size)
					return true
				}
				freed = f
			}
		}
		var (
			timer   clock.Timer
			timeout <-chan time.Time
		)
		if p.answerBytes.Load() > 0 {
			timer = clk.NewTimer(deadline.Sub(clk.Now()))
			timeout = timer.C()
		}
		gone, expired := false, false
		select {
		case <-p.drained: // the peer reads: give it a new IdleTimeout
			deadline = clk.Now().Add(p.n.cfg.IdleTimeout)
		case <-freed:
		case <-p.closed:
			gone = true
		case <-timeout:
			expired = true
		}
		if timer != nil {
			timer.Stop()
		}
		if expired {
			p.log.Warn("dropping slow peer", "reason", "answers not read")
			p.close("send buffer full: answers not read")
		}
		if gone || expired {
			return false
		}
	}
}

// answer sends the answer build makes, within the send budgets: it first
// reserves size bytes (an upper bound of the answer), so the peer's
// requests cannot make the node build answers it has no room for.
func (p *peer) answer(size int, build func() wire.Message) {
	est := int64(size)
	if !p.reserve(est) {
		return
	}
	m := build()
	h, body, err := wire.Encode(m)
	if err != nil {
		p.log.Error("cannot encode message", "header", m.Header(), "error", err)
		p.sent(frame{answer: est})
		return
	}
	// Hold what the frame really takes: release the rest of the estimate
	// (or take the excess, which the estimate should never miss).
	if d := est - int64(len(body)+wire.FrameOverhead); d != 0 {
		p.answerBytes.Add(-d)
		if d > 0 {
			p.release(d)
		} else {
			if p.stranger {
				p.n.strangers.take(-d)
			}
			p.n.budget.take(-d)
		}
		est -= d
	}
	p.push(frame{header: h, body: body, answer: est})
}

func (p *peer) send(m wire.Message) bool {
	h, body, err := wire.Encode(m)
	if err != nil {
		p.log.Error("cannot encode message", "header", m.Header(), "error", err)
		return false
	}
	return p.enqueue(h, body)
}

// queueTxs queues for the writer the txs the peer does not know yet. A
// peer that takes them slower than they come is not dropped for it: an
// honest validator behind a slow link still needs our blocks and votes,
// and dropping it lost everything queued to it. Instead the backlog stops
// growing at txCap: the first tx that does not fit and those after it
// (kept in order, so a sender's nonces reach the peer without gaps) are
// neither queued nor marked known, and stay in the node's pool, whose
// regossip offers them again once the backlog has drained. A peer whose
// writes make no progress at all is dropped by watchIdle.
//
// Strangers (inbound non-validators) are free to make, so each gets an
// eighth of TxBacklog and all of them together at most TxBacklog: what
// they can make the node hold is bounded in total.
//
// again queues known txs too (Network.RegossipTxs).
func (p *peer) queueTxs(txs [][]byte, keys []uint64, again bool) {
	p.mu.Lock()
	if p.txDone {
		p.mu.Unlock()
		return
	}
	skipped := 0
	for i, tx := range txs {
		if !again && p.known.has(keys[i]) {
			continue
		}
		cost := len(tx) + txEntryCost
		if p.txBytes+cost > p.txCap || !p.n.takeStrangerTxs(p, cost) {
			skipped = len(txs) - i
			break
		}
		p.known.add(keys[i])
		p.txq = append(p.txq, tx)
		p.txBytes += cost
	}
	p.markBacklogLocked()
	full := p.txBytes >= txBatchBytes || len(p.txq) >= txBatchCount
	p.mu.Unlock()
	if skipped > 0 {
		p.log.Trace("transaction backlog full: left for the regossip", "skipped", skipped)
	}
	if full {
		select {
		case p.txKick <- struct{}{}:
		default:
		}
	}
}

// run serves the peer until it disconnects; it owns the writer goroutine.
func (p *peer) run() {
	if !p.stranger {
		p.n.txRelied.Add(1)
		defer p.n.txRelied.Add(-1)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		p.writeLoop()
	}()
	go func() {
		defer wg.Done()
		p.watchIdle()
	}()
	p.sendPeers()
	p.readLoop()
	p.close("read loop ended")
	wg.Wait()
	p.drain()
	p.n.removePeer(p)
}

func (p *peer) writeLoop() {
	bw := bufio.NewWriterSize(progressWriter{p}, 64<<10)
	clk := p.n.cfg.Clock
	ping := clk.NewTicker(p.n.cfg.PingInterval)
	defer ping.Stop()
	txTick := clk.NewTicker(txFlushInterval)
	defer txTick.Stop()
	pex := clk.NewTicker(pexInterval)
	defer pex.Stop()
	var pingNonce uint64
	for {
		var err error
		deadline := func() {
			p.writeSince.Store(clk.Now().UnixNano())
			p.conn.SetWriteDeadline(osDeadline(p.n.cfg.IdleTimeout))
		}
		select {
		case <-p.closed:
			return
		case f := <-p.out:
			deadline()
			err = wire.WriteFrame(bw, f.header, f.body)
			p.sent(f)
			for i := 0; err == nil && i < writeBatchFrames; i++ {
				select {
				case f = <-p.out:
					err = wire.WriteFrame(bw, f.header, f.body)
					p.sent(f)
				default:
					i = writeBatchFrames
				}
			}
		case <-p.txKick:
			deadline()
			err = p.writeTxs(bw)
		case <-txTick.C():
			deadline()
			err = p.writeTxs(bw)
		case <-ping.C():
			deadline()
			pingNonce++
			err = writeMsg(bw, &wire.Ping{Nonce: pingNonce})
		case <-pex.C():
			p.sendPeers()
		}
		if err == nil && bw.Buffered() > 0 {
			err = bw.Flush()
		}
		p.writeSince.Store(0)
		if err != nil {
			p.close("write: " + err.Error())
			return
		}
	}
}

// watchIdle drops the peer when the reader has waited IdleTimeout for a
// frame, or a write to it has made no progress that long, as measured by
// the network's clock (see progressWriter: a peer that reads slowly but
// steadily through a long backlog is kept; its backlog is bounded by
// queueTxs instead). Time the reader spends handling a frame (or waiting
// in reserve) does not count. The socket deadlines of readLoop and
// writeLoop do the same on the OS clock, as a backstop (see osDeadline).
func (p *peer) watchIdle() {
	clk, idle := p.n.cfg.Clock, p.n.cfg.IdleTimeout
	t := clk.NewTimer(idle)
	defer t.Stop()
	for {
		select {
		case <-p.closed:
			return
		case <-t.C():
		}
		now := clk.Now().UnixNano()
		wait := idle
		if since := p.readSince.Load(); since != 0 {
			if wait = idle - time.Duration(now-since); wait <= 0 {
				p.close("idle timeout")
				return
			}
		}
		if since := p.writeSince.Load(); since != 0 {
			w := idle - time.Duration(now-since)
			if w <= 0 {
				p.log.Warn("dropping stalled peer", "reason", "writes made no progress for the idle timeout")
				p.close("write: timed out")
				return
			}
			wait = min(wait, w)
		}
		t.Reset(wait) // only after a fire: nothing stale is left in t.C()
	}
}

func writeMsg(w io.Writer, m wire.Message) error {
	h, body, err := wire.Encode(m)
	if err != nil {
		return err
	}
	return wire.WriteFrame(w, h, body)
}

// writeTxs writes the pending transactions in frames of at most
// txBatchCount txs / ~txBatchBytes, taking one frame's worth at a time, so
// the backlog (and Backlogged) shrinks as the peer reads. It writes at
// most what was queued when it began, and yields to queued frames
// (blocks, votes, answers) between batches, kicking itself to go on.
func (p *peer) writeTxs(w io.Writer) error {
	p.mu.Lock()
	left := len(p.txq)
	p.mu.Unlock()
	for left > 0 {
		p.mu.Lock()
		txs := p.txq
		n, size, cost := 0, 0, 0
		for n < len(txs) && n < txBatchCount && (n == 0 || size+len(txs[n]) <= txBatchBytes) {
			size += len(txs[n])
			cost += len(txs[n]) + txEntryCost
			n++
		}
		batch := txs[:n:n]
		if p.txq = txs[n:]; len(p.txq) == 0 {
			p.txq = nil // let the array go
		}
		p.txBytes -= cost
		if p.stranger {
			p.n.strangerTxs.Add(-int64(cost))
		}
		p.markBacklogLocked()
		p.mu.Unlock()
		if n == 0 {
			return nil // closed meanwhile
		}
		err := writeMsg(w, &wire.Txs{Txs: batch})
		// batch is no longer reachable from txq: drop its references so
		// the array kept by txq does not hold written txs.
		clear(batch)
		if err != nil {
			return err
		}
		if left -= n; left > 0 && len(p.out) > 0 {
			select {
			case p.txKick <- struct{}{}:
			default:
			}
			return nil
		}
	}
	return nil
}

func (p *peer) readLoop() {
	br := bufio.NewReaderSize(p.conn, 64<<10)
	lim := newLimiter(p.n.cfg.MaxMsgsPerSec, p.n.cfg.MaxBytesPerSec, p.n.cfg.MaxFrame)
	clk := p.n.cfg.Clock
	for {
		p.readSince.Store(clk.Now().UnixNano())
		p.conn.SetReadDeadline(osDeadline(p.n.cfg.IdleTimeout))
		h, body, err := wire.ReadFrameBy(br, p.n.cfg.MaxFrame, p.frameLimit)
		p.readSince.Store(0)
		if err != nil {
			var ne net.Error
			switch {
			case p.isClosed():
			case errors.Is(err, wire.ErrMalformed), errors.Is(err, wire.ErrFrameTooLarge):
				p.misbehave(err.Error())
			case errors.As(err, &ne) && ne.Timeout():
				p.close("idle timeout")
			case errors.Is(err, io.EOF):
				p.close("closed by peer")
			default:
				p.close("read: " + err.Error())
			}
			return
		}
		ok, pause := lim.take(clk.Now(), len(body)+wire.FrameOverhead)
		if !ok {
			p.misbehave("flood: message rate over the limit")
			return
		}
		if pause > 0 {
			t := clk.NewTimer(pause)
			select {
			case <-t.C():
			case <-p.closed:
				t.Stop()
				return
			}
		}
		m, err := wire.Decode(h, body)
		if err != nil {
			p.misbehave(err.Error())
			return
		}
		if reason := p.handle(m); reason != "" {
			p.misbehave(reason)
			return
		}
		if p.isClosed() {
			return
		}
	}
}

// frameLimit is the most bytes a frame with header may have from this
// peer. A validator may send MaxFrame; any other peer, inbound or one we
// dialled (its address may come from anyone's PEX), at most UnaskedFrame
// unasked, but an answer to our request (sync, a compact block's
// transactions) in full.
func (p *peer) frameLimit(header string) int {
	if p.valid {
		return p.n.cfg.MaxFrame
	}
	if wire.IsAnswer(header) {
		p.mu.Lock()
		asked := len(p.pending) > 0
		p.mu.Unlock()
		if asked {
			return p.n.cfg.MaxFrame
		}
	}
	return p.n.cfg.UnaskedFrame
}

// handle acts on one message; a non-empty result is a reason to ban.
func (p *peer) handle(m wire.Message) string {
	n := p.n
	switch m := m.(type) {
	case *wire.Txs:
		for _, tx := range m.Txs {
			p.markKnown(p.n.itemKey(tx))
		}
		relay, v, err := n.handler.HandleTxs(p.snapshot(), m.Txs)
		if v == Rejected {
			return fmt.Sprintf("transactions rejected: %v", err)
		}
		if err != nil {
			p.log.Debug("transactions not accepted", "verdict", v.String(), "error", err)
		}
		if v == Accepted {
			n.BroadcastTxs(relay)
		}
	case *wire.Block:
		return p.handleBlock(m.Block)
	case *wire.CompactBlock:
		return p.handleCompact(m)
	case *wire.GetBlockTxs:
		p.answer(n.cfg.MaxFrame+wire.FrameOverhead, func() wire.Message { return p.serveBlockTxs(m) })
	case *wire.Vote:
		p.markKnown(p.n.itemKey(m.Vote))
		v, err := n.handler.HandleVote(p.snapshot(), m.Vote)
		switch v {
		case Rejected:
			return fmt.Sprintf("vote rejected: %v", err)
		case Accepted:
			n.BroadcastVote(m.Vote)
		case MissingParent:
			n.emit(PeerEvent{Type: EventMissingParent, Peer: p.snapshot()})
		}
	case *wire.GetFinality:
		p.answer(wire.MaxCertSize+wire.MaxJustVotes*wire.MaxVoteSize, func() wire.Message {
			var id [32]byte
			copy(id[:], m.ID)
			cert, votes := n.chain.FinalityEvidence(m.Epoch, id)
			return &wire.Finality{ReqID: m.ReqID, Cert: cert, Votes: votes}
		})
	case *wire.GetHead:
		p.answer(smallAnswer, func() wire.Message {
			height, id, fin := n.chain.Head()
			return &wire.Head{ReqID: m.ReqID, Height: height, HeadID: id[:], FinalizedHeight: fin}
		})
	case *wire.GetBlocks:
		p.answer(n.cfg.MaxFrame+wire.FrameOverhead, func() wire.Message { return p.serveBlocks(m) })
	case *wire.GetLeader:
		p.answer(smallAnswer, func() wire.Message {
			slot, leader := n.chain.Leader(uint64(n.cfg.Clock.Now().UnixMilli()))
			return &wire.Leader{ReqID: m.ReqID, Slot: slot, Leader: leader[:]}
		})
	case *wire.GetSnapshot:
		p.answer(n.cfg.MaxFrame+wire.FrameOverhead, func() wire.Message { return p.serveSnapshot(m) })
	case *wire.GetChunk:
		p.answer(n.cfg.MaxFrame+wire.FrameOverhead, func() wire.Message { return p.serveChunk(m) })
	case wire.Answer:
		return p.deliver(m)
	case *wire.Peers:
		n.AddPeers(m.Addrs...)
	case *wire.Ping:
		p.answer(smallAnswer, func() wire.Message { return &wire.Pong{Nonce: m.Nonce} })
	case *wire.Pong:
		// liveness only: any frame resets the idle deadline
	case *wire.Hello, *wire.HelloAck:
		return "handshake message after the handshake"
	default:
		return fmt.Sprintf("unexpected message %s", m.Header())
	}
	return ""
}

func (p *peer) serveBlocks(m *wire.GetBlocks) *wire.Blocks {
	count := int(min(m.Count, wire.MaxBlocksPerRequest))
	// Leave room for the envelope and each block's bin32 header.
	budget := p.n.cfg.MaxFrame - wire.HeaderLen - 64 - 5*count
	blocks := p.n.chain.BlocksByNumber(m.From, count, budget)
	if len(blocks) > count {
		blocks = blocks[:count]
	}
	total := 0
	for i, b := range blocks {
		if len(b) == 0 || total+len(b) > budget {
			blocks = blocks[:i]
			break
		}
		total += len(b)
	}
	return &wire.Blocks{ReqID: m.ReqID, Blocks: blocks}
}

func (p *peer) sendPeers() {
	addrs := p.n.knownAddrs(wire.MaxPeerAddrs, p.info.ListenAddr)
	if len(addrs) > 0 {
		p.send(&wire.Peers{Addrs: addrs})
	}
}

// keySet is a bounded set of gossip keys that forgets the oldest first.
type keySet struct {
	m    map[uint64]struct{}
	ring []uint64
	next int
}

func newKeySet(n int) *keySet {
	return &keySet{m: make(map[uint64]struct{}, n), ring: make([]uint64, 0, n)}
}

func (s *keySet) has(k uint64) bool {
	_, ok := s.m[k]
	return ok
}

func (s *keySet) add(k uint64) bool {
	if _, ok := s.m[k]; ok {
		return false
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, k)
	} else {
		delete(s.m, s.ring[s.next])
		s.ring[s.next] = k
		s.next = (s.next + 1) % len(s.ring)
	}
	s.m[k] = struct{}{}
	return true
}

// limiter is a pair of token buckets (messages and bytes) with a two-second
// burst; only the reader goroutine uses it. The two are enforced
// differently. Many small frames cost per-message work and are what a
// hostile peer sends, so going over the message rate is misbehaviour. Many
// bytes are what an honest validator sends under load (multi-megabyte
// blocks and transaction gossip), so the byte rate is kept by pausing the
// reader, which TCP turns into backpressure on the sender.
type limiter struct {
	msgs, bytes       float64
	msgRate, byteRate float64
	msgMax, byteMax   float64
	last              time.Time
}

func newLimiter(msgsPerSec, bytesPerSec, maxFrame int) *limiter {
	l := &limiter{msgRate: float64(msgsPerSec), byteRate: float64(bytesPerSec)}
	l.msgMax = 2 * l.msgRate
	l.byteMax = max(2*l.byteRate, 2*float64(maxFrame))
	l.msgs, l.bytes = l.msgMax, l.byteMax
	return l
}

// take charges one frame of size bytes. It reports false when the message
// rate is exceeded, and otherwise how long to pause before the next read
// so that the byte rate holds (at most one frame's worth of time).
func (l *limiter) take(now time.Time, size int) (ok bool, pause time.Duration) {
	if !l.last.IsZero() {
		dt := now.Sub(l.last).Seconds()
		l.msgs = min(l.msgMax, l.msgs+dt*l.msgRate)
		l.bytes = min(l.byteMax, l.bytes+dt*l.byteRate)
	}
	l.last = now
	l.msgs--
	l.bytes -= float64(size)
	if l.msgs < 0 {
		return false, 0
	}
	if l.bytes < 0 {
		pause = time.Duration(-l.bytes / l.byteRate * float64(time.Second))
	}
	return true, pause
}
