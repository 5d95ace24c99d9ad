package p2p

import (
	"context"
	"fmt"

	"ccoin/ccoin/p2p/wire"
)

// RequestHead asks a peer for its head.
func (n *Network) RequestHead(ctx context.Context, peerID uint64) (height uint64, head [32]byte, finalized uint64, err error) {
	id := n.reqSeq.Add(1)
	a, p, err := n.request(ctx, peerID, &wire.GetHead{ReqID: id}, wire.HdrHead)
	if err != nil {
		return 0, head, 0, err
	}
	h := a.(*wire.Head)
	copy(head[:], h.HeadID)
	p.mu.Lock()
	p.info.Height, p.info.HeadID, p.info.FinalizedHeight = h.Height, head, h.FinalizedHeight
	p.mu.Unlock()
	return h.Height, head, h.FinalizedHeight, nil
}

// RequestBlocks asks a peer for up to count (<= 512) blocks from number from.
// The answer may hold fewer blocks than asked (the peer's frame budget or
// chain end); more than asked gets the peer banned.
func (n *Network) RequestBlocks(ctx context.Context, peerID uint64, from uint64, count int) ([][]byte, error) {
	if count <= 0 || count > wire.MaxBlocksPerRequest {
		return nil, fmt.Errorf("%w: count %d not in 1..%d", ErrConfig, count, wire.MaxBlocksPerRequest)
	}
	id := n.reqSeq.Add(1)
	a, p, err := n.request(ctx, peerID, &wire.GetBlocks{ReqID: id, From: from, Count: uint64(count)}, wire.HdrBlocks)
	if err != nil {
		return nil, err
	}
	blocks := a.(*wire.Blocks).Blocks
	if len(blocks) > count {
		p.misbehave(fmt.Sprintf("answered %d blocks to a request for %d", len(blocks), count))
		return nil, fmt.Errorf("%w: %d blocks for %d asked", ErrBadAnswer, len(blocks), count)
	}
	return blocks, nil
}

// RequestLeader asks a peer which validator leads the current slot.
func (n *Network) RequestLeader(ctx context.Context, peerID uint64) (slot uint64, leader [20]byte, err error) {
	id := n.reqSeq.Add(1)
	a, _, err := n.request(ctx, peerID, &wire.GetLeader{ReqID: id}, wire.HdrLeader)
	if err != nil {
		return 0, leader, err
	}
	l := a.(*wire.Leader)
	copy(leader[:], l.Leader)
	return l.Slot, leader, nil
}

// RequestFinality asks a peer for its newest certificate and, when id is
// not zero, the votes that justified checkpoint (epoch, id).
func (n *Network) RequestFinality(ctx context.Context, peerID uint64, epoch uint64, id [32]byte) (cert []byte, votes [][]byte, err error) {
	req := &wire.GetFinality{ReqID: n.reqSeq.Add(1), Epoch: epoch}
	if id != ([32]byte{}) {
		req.ID = id[:]
	}
	a, _, err := n.request(ctx, peerID, req, wire.HdrFinality)
	if err != nil {
		return nil, nil, err
	}
	f := a.(*wire.Finality)
	return f.Cert, f.Votes, nil
}

// request sends req and waits for the answer with the same ReqID.
func (n *Network) request(ctx context.Context, peerID uint64, req wire.Request, want string) (wire.Answer, *peer, error) {
	p := n.peer(peerID)
	if p == nil {
		return nil, nil, fmt.Errorf("%w: %d", ErrUnknownPeer, peerID)
	}
	id := req.RequestID()
	pr := &pendingReq{want: want, ch: make(chan wire.Answer, 1)}
	p.mu.Lock()
	if len(p.pending) >= maxPendingReqs {
		p.mu.Unlock()
		return nil, p, ErrBusy
	}
	p.pending[id] = pr
	p.mu.Unlock()
	if !p.send(req) {
		p.forget(id)
		return nil, p, ErrPeerGone
	}
	t := n.cfg.Clock.NewTimer(n.cfg.RequestTimeout)
	defer t.Stop()
	select {
	case a := <-pr.ch:
		return a, p, nil
	case <-p.closed:
		p.forget(id)
		return nil, p, ErrPeerGone
	case <-n.done:
		p.forget(id)
		return nil, p, ErrClosed
	case <-t.C():
		p.forget(id)
		return nil, p, fmt.Errorf("%w: %s to peer %d", ErrTimeout, req.Header(), peerID)
	case <-ctx.Done():
		p.forget(id)
		return nil, p, ctx.Err()
	}
}

// forget drops a pending request, remembering its id so a late answer is
// ignored rather than punished.
func (p *peer) forget(id uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.pending[id]; !ok {
		return
	}
	delete(p.pending, id)
	p.expired[p.expNext] = id
	p.expNext = (p.expNext + 1) % expiredRing
}

// deliver matches an answer to its pending request. Answers to requests that
// timed out are ignored; answers to requests never made, or of the wrong
// kind, are misbehaviour.
func (p *peer) deliver(a wire.Answer) string {
	id := a.RequestID()
	p.mu.Lock()
	pr, ok := p.pending[id]
	if ok {
		delete(p.pending, id)
	}
	late := false
	if !ok && id != 0 {
		for _, e := range p.expired {
			if e == id {
				late = true
				break
			}
		}
	}
	p.mu.Unlock()
	switch {
	case ok && pr.want != a.Header():
		return fmt.Sprintf("answered request %d with %s, want %s", id, a.Header(), pr.want)
	case ok:
		pr.ch <- a // buffered, one answer per request
	case late:
		p.log.Debug("ignoring late answer", "header", a.Header(), "req-id", id)
	default:
		return fmt.Sprintf("unsolicited answer %s (req-id %d)", a.Header(), id)
	}
	return ""
}
