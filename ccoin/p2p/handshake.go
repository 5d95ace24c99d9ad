package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/p2p/wire"
)

// makeHello builds and signs our side of the handshake.
func (n *Network) makeHello() (*wire.Hello, error) {
	height, head, fin := n.chain.Head()
	addr := n.cfg.Key.Address()
	h := &wire.Hello{
		NetworkID:       n.cfg.NetworkID,
		ChainID:         append([]byte(nil), n.cfg.ChainID[:]...),
		NodeAddress:     addr[:],
		ListenAddr:      n.advertise,
		Height:          height,
		HeadID:          head[:],
		FinalizedHeight: fin,
		Version:         n.cfg.Version,
		NodeType:        n.cfg.NodeType,
		Nonce:           n.nonce,
		TimeMs:          uint64(time.Now().UnixMilli()),
		PublicKey:       n.cfg.Key.Public().DER(),
	}
	sig, err := n.cfg.Key.Sign(h.SigningDigest())
	if err != nil {
		return nil, fmt.Errorf("p2p: sign hello: %w", err)
	}
	h.Signature = sig
	return h, nil
}

// verifyHello checks a peer's HEY or ACK; cheap checks first.
func (n *Network) verifyHello(h *wire.Hello) error {
	if h.NetworkID != n.cfg.NetworkID {
		return fmt.Errorf("%w: %d, ours %d", ErrNetworkMismatch, h.NetworkID, n.cfg.NetworkID)
	}
	if !bytes.Equal(h.ChainID, n.cfg.ChainID[:]) {
		return fmt.Errorf("%w: %x, ours %x", ErrChainMismatch, h.ChainID, n.cfg.ChainID[:])
	}
	if h.Nonce == n.nonce {
		return ErrSelfConnection
	}
	now := time.Now().UnixMilli()
	if d := time.Duration(now-int64(h.TimeMs)) * time.Millisecond; h.TimeMs > 1<<62 || d > MaxClockSkew || d < -MaxClockSkew {
		return fmt.Errorf("%w: peer time %d ms, ours %d ms", ErrClockSkew, h.TimeMs, now)
	}
	if crypto.AddressOf(h.PublicKey) != crypto.Address(h.NodeAddress) {
		return ErrAddressMismatch
	}
	pub, err := n.keys.Parse(h.PublicKey)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if err := pub.Verify(h.SigningDigest(), h.Signature); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return nil
}

// banWorthy: handshake failures that show a broken or hostile peer rather
// than an honest one on another network or with a skewed clock.
func banWorthy(err error) bool {
	return errors.Is(err, wire.ErrMalformed) || errors.Is(err, wire.ErrFrameTooLarge) ||
		errors.Is(err, wire.ErrTooLarge) || errors.Is(err, wire.ErrUnknownMessage) ||
		errors.Is(err, ErrBadSignature) || errors.Is(err, ErrAddressMismatch)
}

func infoFrom(h *wire.Hello, conn net.Conn, inbound bool) PeerInfo {
	info := PeerInfo{
		ID:              h.Nonce,
		ListenAddr:      h.ListenAddr,
		RemoteAddr:      conn.RemoteAddr().String(),
		NodeType:        h.NodeType,
		Version:         h.Version,
		Inbound:         inbound,
		Height:          h.Height,
		FinalizedHeight: h.FinalizedHeight,
		ConnectedAt:     time.Now(),
	}
	copy(info.NodeAddress[:], h.NodeAddress)
	copy(info.HeadID[:], h.HeadID)
	return info
}

// readHello reads one frame that must be the given handshake message.
func (n *Network) readHello(conn net.Conn, want string) (*wire.Hello, error) {
	hdr, body, err := wire.ReadFrame(conn, n.cfg.MaxFrame)
	if err != nil {
		return nil, fmt.Errorf("%w: read: %w", ErrHandshake, err)
	}
	if hdr != want {
		return nil, fmt.Errorf("%w: got %q, want %s: %w", ErrHandshake, hdr, want, wire.ErrMalformed)
	}
	m, err := wire.Decode(hdr, body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	switch m := m.(type) {
	case *wire.Hello:
		return m, nil
	case *wire.HelloAck:
		return (*wire.Hello)(m), nil
	}
	return nil, fmt.Errorf("%w: unexpected %s", ErrHandshake, hdr)
}

// serveInbound runs the listener side of the handshake: HEY in, ACK out.
func (n *Network) serveInbound(conn net.Conn) {
	defer n.untrackConn(conn)
	ip := remoteIP(conn.RemoteAddr())
	loopback := ip != nil && ip.IsLoopback()
	ipKey := ""
	if ip != nil {
		ipKey = ip.String()
	}
	log := n.log.With("remote-addr", conn.RemoteAddr().String())
	refuse := func(err error) {
		log.Info("refused inbound peer", "reason", err)
		conn.Close()
	}
	if !loopback && n.isBanned(ipKey) {
		refuse(ErrBanned)
		return
	}
	if err := n.reserveInbound(ipKey, loopback); err != nil {
		refuse(err)
		return
	}
	defer n.releaseInbound(ipKey, loopback)

	conn.SetDeadline(time.Now().Add(n.cfg.HandshakeTimeout))
	h, err := n.readHello(conn, wire.HdrHello)
	if err == nil {
		err = n.verifyHello(h)
	}
	if errors.Is(err, ErrSelfConnection) {
		// Answer ourselves so the dialing side learns this address is ours.
		if ack, err := n.makeHello(); err == nil {
			_ = writeMsg(conn, (*wire.HelloAck)(ack))
		}
	}
	if err != nil {
		if banWorthy(err) {
			if loopback && h == nil {
				// Without a HEY there is no listen port to key a loopback ban on.
				log.Warn("dropping peer that failed the handshake", "reason", err)
			} else {
				lst := ""
				if h != nil {
					lst = h.ListenAddr
				}
				n.ban(banKey(conn.RemoteAddr(), lst, 0), err.Error())
			}
		}
		refuse(err)
		return
	}
	info := infoFrom(h, conn, true)
	if err := n.acceptPeer(info); err != nil {
		refuse(err)
		return
	}
	p := newPeer(n, conn, info, "")
	if n.isBanned(p.banKey) {
		refuse(ErrBanned)
		return
	}
	if err := n.register(p); err != nil {
		refuse(err)
		return
	}
	ack, err := n.makeHello()
	if err == nil {
		err = writeMsg(conn, (*wire.HelloAck)(ack))
	}
	if err != nil {
		log.Info("handshake failed", "reason", err)
		p.close("handshake: " + err.Error())
		n.mu.Lock()
		if n.peers[info.ID] == p {
			delete(n.peers, info.ID)
		}
		n.mu.Unlock()
		return
	}
	conn.SetDeadline(time.Time{})
	n.untrackConn(conn)
	if info.ListenAddr != "" {
		n.AddPeers(info.ListenAddr)
	}
	n.announce(p)
	p.run()
}

// connect dials addr and runs the dialer side: HEY out, ACK in.
func (n *Network) connect(ctx context.Context, addr string) error {
	if n.isBanned(dialBanKey(addr)) {
		return ErrBanned
	}
	d := net.Dialer{Timeout: n.cfg.HandshakeTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	if !n.trackConn(conn) {
		conn.Close()
		return ErrClosed
	}
	defer n.untrackConn(conn)
	fail := func(err error) error {
		conn.Close()
		return err
	}
	if n.isBanned(banKey(conn.RemoteAddr(), addr, 0)) {
		return fail(ErrBanned)
	}
	conn.SetDeadline(time.Now().Add(n.cfg.HandshakeTimeout))
	hey, err := n.makeHello()
	if err != nil {
		return fail(err)
	}
	if err := writeMsg(conn, hey); err != nil {
		return fail(fmt.Errorf("%w: write: %w", ErrHandshake, err))
	}
	h, err := n.readHello(conn, wire.HdrHelloAck)
	if err == nil {
		err = n.verifyHello(h)
	}
	if err != nil {
		if banWorthy(err) {
			n.ban(banKey(conn.RemoteAddr(), addr, 0), err.Error())
		}
		return fail(err)
	}
	info := infoFrom(h, conn, false)
	if err := n.acceptPeer(info); err != nil {
		return fail(err)
	}
	p := newPeer(n, conn, info, addr)
	if err := n.register(p); err != nil {
		return fail(err)
	}
	conn.SetDeadline(time.Time{})
	n.untrackConn(conn)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.announce(p)
		p.run()
	}()
	return nil
}

// acceptPeer applies the optional local peer policy (Config.AcceptPeer).
func (n *Network) acceptPeer(info PeerInfo) error {
	if n.cfg.AcceptPeer == nil {
		return nil
	}
	if err := n.cfg.AcceptPeer(info); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrPeerRefused, info.NodeAddress, err)
	}
	return nil
}

// dialBanKey is the ban key of a dial target that is a literal IP.
func dialBanKey(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.IsLoopback() {
		return net.JoinHostPort(ip.String(), port)
	}
	return ip.String()
}

func (n *Network) announce(p *peer) {
	info := p.snapshot()
	p.log.Info("peer connected", "listen-addr", info.ListenAddr, "node-type", info.NodeType,
		"height", info.Height, "validator", p.valid)
	n.emit(PeerEvent{Type: EventConnected, Peer: info})
}

func (n *Network) reserveInbound(ip string, loopback bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.inbound >= n.cfg.MaxInbound {
		return fmt.Errorf("%w: %d inbound", ErrTooManyPeers, n.inbound)
	}
	if !loopback && n.perIP[ip] >= n.cfg.MaxPerIP {
		return fmt.Errorf("%w: %d connections from %s", ErrTooManyPeers, n.perIP[ip], ip)
	}
	n.inbound++
	if !loopback {
		n.perIP[ip]++
	}
	return nil
}

func (n *Network) releaseInbound(ip string, loopback bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.inbound--
	if !loopback {
		if n.perIP[ip]--; n.perIP[ip] <= 0 {
			delete(n.perIP, ip)
		}
	}
}

// register adds a handshaken peer. Two nodes dialling each other at once
// would otherwise each refuse the other's second connection and lose both, so
// on a cross-direction duplicate both sides keep the connection dialled by
// the node with the lower nonce.
func (n *Network) register(p *peer) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopping {
		return ErrClosed
	}
	id := p.info.ID
	if old, ok := n.peers[id]; ok {
		keepOutbound := n.nonce < id
		if old.info.Inbound == p.info.Inbound || p.info.Inbound == keepOutbound {
			return fmt.Errorf("%w: %s", ErrDuplicatePeer, p.info.NodeAddress)
		}
		old.close("replaced by a simultaneous connection")
	} else if !p.info.Inbound {
		out, outNonValidator := 0, 0
		for _, q := range n.peers {
			if !q.info.Inbound {
				out++
				if !q.valid {
					outNonValidator++
				}
			}
		}
		bootstrap := n.cands[p.dialed] != nil && n.cands[p.dialed].bootstrap
		if !bootstrap && out >= n.cfg.MaxOutbound {
			return fmt.Errorf("%w: %d outbound", ErrTooManyPeers, out)
		}
		if !bootstrap && !p.valid && outNonValidator >= n.cfg.MaxOutbound-n.cfg.ReservedValidatorSlots {
			return fmt.Errorf("%w: remaining outbound slots are reserved for validators", ErrTooManyPeers)
		}
	}
	n.peers[id] = p
	if p.info.ListenAddr != "" {
		if c := n.cands[p.info.ListenAddr]; c != nil {
			c.validator = p.valid
		}
	}
	return nil
}

func (n *Network) removePeer(p *peer) {
	n.mu.Lock()
	if n.peers[p.info.ID] == p {
		delete(n.peers, p.info.ID)
	}
	if c := n.cands[p.dialed]; c != nil {
		c.next = time.Now().Add(dialBaseBackoff)
	}
	n.mu.Unlock()
	p.mu.Lock()
	reason := p.reason
	p.mu.Unlock()
	p.log.Info("peer disconnected", "reason", reason)
	n.emit(PeerEvent{Type: EventDisconnected, Peer: p.snapshot(), Reason: reason})
	n.kickDialer()
}
