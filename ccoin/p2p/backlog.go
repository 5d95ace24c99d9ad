package p2p

// Backlogged reports whether every peer gossip relies on (validators and
// the peers this node dialled) has a transaction backlog past
// TxBacklogHigh: the node cannot pass transactions on as fast as it takes
// them, and should refuse new ones from clients (the node answers 503
// overloaded) rather than queue what it cannot send. Inbound strangers do
// not count, or one that reads slowly could make the node refuse its
// clients; nor do peers that keep up, through which gossip still flows.
// With no such peer it is false. It costs two atomic loads.
func (n *Network) Backlogged() bool {
	b := n.txBacklogged.Load()
	return b > 0 && b >= n.txRelied.Load()
}

// takeStrangerTxs takes cost bytes of the strangers' shared tx backlog for
// p if p is a stranger and they fit.
func (n *Network) takeStrangerTxs(p *peer, cost int) bool {
	if !p.stranger {
		return true
	}
	if n.strangerTxs.Add(int64(cost)) > int64(n.cfg.TxBacklog) {
		n.strangerTxs.Add(-int64(cost))
		return false
	}
	return true
}

// markBacklogLocked keeps txHigh, and the network's count behind
// Backlogged, up to date with txBytes. It turns on at TxBacklogHigh (at
// most half of txCap), so the node refuses new client transactions while
// the peer can still take what peers relay, and off at half of that, so
// the signal does not flap with every batch written. Call with p.mu held.
func (p *peer) markBacklogLocked() {
	high := min(p.n.cfg.TxBacklogHigh, p.txCap/2)
	var d int32
	switch {
	case !p.txHigh && !p.txDone && p.txBytes >= high:
		p.txHigh, d = true, 1
		p.log.Debug("transaction backlog high: the peer takes transactions slower than they come", "bytes", p.txBytes)
	case p.txHigh && (p.txDone || p.txBytes <= high/2):
		p.txHigh, d = false, -1
		p.log.Debug("transaction backlog drained", "bytes", p.txBytes)
	}
	if d != 0 && !p.stranger {
		p.n.txBacklogged.Add(d)
	}
}

// dropTxsLocked releases the tx backlog of a closed peer. Call with p.mu
// held.
func (p *peer) dropTxsLocked() {
	p.txDone = true
	if p.stranger {
		p.n.strangerTxs.Add(-int64(p.txBytes))
	}
	p.txq, p.txBytes = nil, 0
	p.markBacklogLocked()
}

// progressWriter is the connection as the writer's buffer sees it: each
// write that goes through is progress, so it restarts the write timeouts
// (watchIdle's and the socket's). A write is at most the buffer (64 KiB),
// so a peer must take that much per IdleTimeout to stay.
type progressWriter struct{ p *peer }

func (w progressWriter) Write(b []byte) (int, error) {
	p := w.p
	n, err := p.conn.Write(b)
	if n > 0 && err == nil {
		p.writeSince.Store(p.n.cfg.Clock.Now().UnixNano())
		p.conn.SetWriteDeadline(osDeadline(p.n.cfg.IdleTimeout))
	}
	return n, err
}
