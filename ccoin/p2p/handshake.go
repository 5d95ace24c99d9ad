package p2p

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/p2p/wire"
)

// The handshake, in both directions:
//
//  1. TLS 1.3 with a certificate on both sides (tls.go). When it completes
//     each side knows the other's address from the other's certificate, and
//     that the other holds its key.
//  2. The dialer sends HEY, the listener answers ACK, inside TLS and with a
//     frame limit of wire.MaxHelloFrame: protocol version, network, chain,
//     listen address, head. A peer of another protocol, network or genesis
//     is refused (not banned); a HEY naming another address than the
//     certificate's, or not decoding, gets the proven address banned.
//
// Bans are by proven address and by remote IP (not on loopback, where many
// local nodes share one IP), never by anything a peer only claims.

// makeHello builds our side of the handshake.
func (n *Network) makeHello() *wire.Hello {
	height, head, fin := n.chain.Head()
	addr := n.cfg.Key.Address()
	return &wire.Hello{
		Protocol:        wire.ProtocolVersion,
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
		TimeMs:          uint64(n.cfg.Clock.Now().UnixMilli()),
	}
}

// verifyHello checks a peer's HEY or ACK against the proven address.
func (n *Network) verifyHello(h *wire.Hello, proven crypto.Address) error {
	if h.Protocol != wire.ProtocolVersion {
		return protocolError(h.Protocol)
	}
	if h.NetworkID != n.cfg.NetworkID {
		return fmt.Errorf("%w: %d, ours %d", ErrNetworkMismatch, h.NetworkID, n.cfg.NetworkID)
	}
	if !bytes.Equal(h.ChainID, n.cfg.ChainID[:]) {
		return fmt.Errorf("%w: %x, ours %x", ErrChainMismatch, h.ChainID, n.cfg.ChainID[:])
	}
	if crypto.Address(h.NodeAddress) != proven {
		return fmt.Errorf("%w: claims %x, certificate %s", ErrAddressMismatch, h.NodeAddress, proven)
	}
	if proven == n.cfg.Key.Address() && h.Nonce == n.nonce {
		return ErrSelfConnection
	}
	return nil
}

func protocolError(v uint64) error {
	if v < wire.ProtocolVersion {
		return fmt.Errorf("%w: peer speaks protocol %d, this node %d; upgrade the peer", ErrProtocol, v, wire.ProtocolVersion)
	}
	return fmt.Errorf("%w: peer speaks protocol %d, this node %d; upgrade this node", ErrProtocol, v, wire.ProtocolVersion)
}

// banWorthy: failures after TLS that show a broken or hostile peer rather
// than an honest one on another network or version.
func banWorthy(err error) bool {
	return errors.Is(err, wire.ErrMalformed) || errors.Is(err, wire.ErrFrameTooLarge) ||
		errors.Is(err, wire.ErrTooLarge) || errors.Is(err, wire.ErrUnknownMessage) ||
		errors.Is(err, ErrAddressMismatch)
}

// readHello reads one frame that must be the given handshake message.
func readHello(r io.Reader, want string) (*wire.Hello, error) {
	hdr, body, err := wire.ReadFrame(r, wire.MaxHelloFrame)
	if err != nil {
		return nil, fmt.Errorf("%w: read: %w", ErrHandshake, err)
	}
	if hdr != want {
		return nil, fmt.Errorf("%w: got %q, want %s: %w", ErrHandshake, hdr, want, wire.ErrMalformed)
	}
	if v, ok := wire.HelloProtocol(body); ok && v != wire.ProtocolVersion {
		return nil, protocolError(v)
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

func (n *Network) infoFrom(h *wire.Hello, addr crypto.Address, conn net.Conn, inbound bool) PeerInfo {
	if d := time.Duration(n.cfg.Clock.Now().UnixMilli()-int64(h.TimeMs)) * time.Millisecond; h.TimeMs > 1<<62 || d > MaxClockSkew || d < -MaxClockSkew {
		n.log.Warn("peer clock differs from ours", "peer", addr.String(), "peer-time-ms", h.TimeMs)
	}
	info := PeerInfo{
		ID:              PeerID(addr, h.Nonce),
		nonce:           h.Nonce,
		NodeAddress:     addr,
		ListenAddr:      h.ListenAddr,
		RemoteAddr:      conn.RemoteAddr().String(),
		NodeType:        h.NodeType,
		Version:         h.Version,
		Inbound:         inbound,
		Height:          h.Height,
		FinalizedHeight: h.FinalizedHeight,
		ConnectedAt:     n.cfg.Clock.Now(),
	}
	copy(info.HeadID[:], h.HeadID)
	return info
}

// tlsHandshake runs TLS over raw and returns the peer's proven address.
func (n *Network) tlsHandshake(ctx context.Context, raw *rawConn, inbound bool) (*tls.Conn, crypto.Address, error) {
	var tc *tls.Conn
	if inbound {
		tc = tls.Server(raw, n.tlsCfg)
	} else {
		tc = tls.Client(raw, n.tlsCfg)
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		switch {
		case !inbound && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)):
			err = fmt.Errorf("peer closed the connection during the TLS handshake (an older ccoin speaking protocol 1, or not a ccoin node): %w", err)
		}
		return nil, crypto.Address{}, fmt.Errorf("%w: tls: %w", ErrHandshake, err)
	}
	addr, err := n.peerAddress(tc.ConnectionState())
	if err != nil { // checked in VerifyConnection already
		return nil, crypto.Address{}, err
	}
	return tc, addr, nil
}

// serveInbound runs the listener side: TLS, then HEY in, ACK out.
func (n *Network) serveInbound(conn net.Conn) {
	defer n.untrackConn(conn)
	host, loopback := remoteHost(conn.RemoteAddr())
	log := n.log.With("remote-addr", conn.RemoteAddr().String())
	refuse := func(err error) {
		log.Info("refused inbound peer", "reason", err)
		conn.Close()
	}
	if !loopback && n.isBanned(ipBanKey(host)) {
		refuse(ErrBanned)
		return
	}
	if err := n.reserveInbound(host, loopback); err != nil {
		refuse(err)
		return
	}
	defer n.releaseInbound(host, loopback)
	if err := n.reserveHandshake(); err != nil {
		refuse(err)
		return
	}
	handshaking := true
	defer func() {
		if handshaking {
			n.releaseHandshake()
		}
	}()

	hs := n.startHandshakeTimer(context.Background())
	defer hs.stop()
	hs.watch(conn)
	conn.SetDeadline(osDeadline(n.cfg.HandshakeTimeout))
	refuse = func(err error) {
		log.Info("refused inbound peer", "reason", hs.err(err))
		conn.Close()
	}
	raw := newRawConn(conn)
	old, err := raw.peekOldProtocol()
	if err != nil {
		refuse(fmt.Errorf("%w: %w", ErrHandshake, err))
		return
	}
	if old {
		refuse(protocolError(1))
		return
	}
	tc, addr, err := n.tlsHandshake(hs.ctx, raw, true)
	if err != nil {
		refuse(err)
		return
	}
	log = log.With("peer", addr.String())
	refuse = func(err error) {
		log.Info("refused inbound peer", "reason", hs.err(err))
		tc.Close()
	}
	if n.isBanned(addrBanKey(addr)) {
		refuse(ErrBanned)
		return
	}
	h, err := readHello(tc, wire.HdrHello)
	if err == nil {
		err = n.verifyHello(h, addr)
	}
	if errors.Is(err, ErrSelfConnection) {
		// Answer ourselves so the dialing side learns this address is ours.
		_ = writeMsg(tc, (*wire.HelloAck)(n.makeHello()))
	}
	if err != nil {
		if banWorthy(err) {
			n.banIdentity(addr, host, loopback, err.Error())
		}
		refuse(err)
		return
	}
	info := n.infoFrom(h, addr, conn, true)
	if err := n.acceptPeer(info); err != nil {
		refuse(err)
		return
	}
	p := newPeer(n, tc, info, "")
	if err := n.register(p); err != nil {
		refuse(err)
		return
	}
	err = writeMsg(tc, (*wire.HelloAck)(n.makeHello()))
	if err == nil && !hs.stop() {
		err = errHandshakeTimeout
	}
	if err != nil {
		err = hs.err(err)
		log.Info("handshake failed", "reason", err)
		p.close("handshake: " + err.Error())
		n.unregister(p)
		return
	}
	raw.unlimit()
	conn.SetDeadline(time.Time{})
	n.untrackConn(conn)
	handshaking = false
	n.releaseHandshake()
	if info.ListenAddr != "" {
		n.AddPeers(info.ListenAddr)
	}
	n.announce(p)
	p.run()
}

// connect dials addr and runs the dialer side: TLS, then HEY out, ACK in.
func (n *Network) connect(ctx context.Context, addr string) error {
	if k := dialBanKey(addr); k != "" && n.isBanned(k) {
		return ErrBanned
	}
	hs := n.startHandshakeTimer(ctx)
	defer hs.stop()
	conn, err := n.cfg.Transport.Dial(hs.ctx, addr)
	if err != nil {
		return hs.err(err)
	}
	if !n.trackConn(conn) {
		conn.Close()
		return ErrClosed
	}
	defer n.untrackConn(conn)
	hs.watch(conn)
	fail := func(err error) error {
		conn.Close()
		return hs.err(err)
	}
	host, loopback := remoteHost(conn.RemoteAddr())
	if !loopback && n.isBanned(ipBanKey(host)) {
		return fail(ErrBanned)
	}
	conn.SetDeadline(osDeadline(n.cfg.HandshakeTimeout))
	raw := newRawConn(conn)
	tc, peerAddr, err := n.tlsHandshake(hs.ctx, raw, false)
	if err != nil {
		return fail(err)
	}
	if n.isBanned(addrBanKey(peerAddr)) {
		return fail(ErrBanned)
	}
	if err := writeMsg(tc, n.makeHello()); err != nil {
		return fail(fmt.Errorf("%w: write: %w", ErrHandshake, err))
	}
	h, err := readHello(tc, wire.HdrHelloAck)
	if err == nil {
		err = n.verifyHello(h, peerAddr)
	}
	if err != nil {
		if banWorthy(err) {
			n.banIdentity(peerAddr, host, loopback, err.Error())
		}
		return fail(err)
	}
	info := n.infoFrom(h, peerAddr, conn, false)
	if err := n.acceptPeer(info); err != nil {
		return fail(err)
	}
	if !hs.stop() {
		return fail(errHandshakeTimeout)
	}
	p := newPeer(n, tc, info, addr)
	if err := n.register(p); err != nil {
		return fail(err)
	}
	raw.unlimit()
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

// reserveHandshake bounds inbound connections still in their handshake,
// whatever their source: each costs a goroutine, TLS state and up to
// handshakeReadLimit bytes until HandshakeTimeout.
func (n *Network) reserveHandshake() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.handshaking >= n.cfg.MaxHandshakes {
		return fmt.Errorf("%w: %d connections in handshake", ErrTooManyPeers, n.handshaking)
	}
	n.handshaking++
	return nil
}

func (n *Network) releaseHandshake() {
	n.mu.Lock()
	n.handshaking--
	n.mu.Unlock()
}

// register adds a handshaken peer, keyed by its identity: its proven
// address and its nonce (which only the key's holder can present). A
// second link to the same identity replaces the first only by a rule on
// identities, so nobody but the two nodes themselves can evict a link:
//   - the same direction again: the old link stays and the new one is
//     refused (a peer that restarted is let in once our ping finds its old
//     link dead, within PingInterval);
//   - both directions (two nodes dialled each other at once): both sides
//     keep the link dialled by the node with the lower address (and, for
//     twins, the lower nonce).
func (n *Network) register(p *peer) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopping {
		return ErrClosed
	}
	id := p.info.ID
	if old, ok := n.peers[id]; ok {
		if old.info.Inbound == p.info.Inbound || old.info.NodeAddress != p.info.NodeAddress || old.info.nonce != p.info.nonce {
			return fmt.Errorf("%w: %s", ErrDuplicatePeer, p.info.NodeAddress)
		}
		self := n.cfg.Key.Address()
		c := bytes.Compare(self[:], p.info.NodeAddress[:])
		weAreLower := c < 0 || c == 0 && n.nonce < p.info.nonce // c == 0: our twin
		// Keep the link dialled by the lower address: our outbound one if weAreLower.
		if p.info.Inbound == weAreLower {
			return fmt.Errorf("%w: %s (keeping the link dialled by the lower address)", ErrDuplicatePeer, p.info.NodeAddress)
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

func (n *Network) unregister(p *peer) {
	n.mu.Lock()
	if n.peers[p.info.ID] == p {
		delete(n.peers, p.info.ID)
	}
	n.mu.Unlock()
}

func (n *Network) removePeer(p *peer) {
	n.mu.Lock()
	if n.peers[p.info.ID] == p {
		delete(n.peers, p.info.ID)
	}
	if c := n.cands[p.dialed]; c != nil {
		c.next = n.cfg.Clock.Now().Add(dialBaseBackoff)
	}
	n.mu.Unlock()
	p.mu.Lock()
	reason := p.reason
	p.mu.Unlock()
	p.log.Info("peer disconnected", "reason", reason)
	n.emit(PeerEvent{Type: EventDisconnected, Peer: p.snapshot(), Reason: reason})
	n.kickDialer()
}

var errHandshakeTimeout = fmt.Errorf("%w: timed out", ErrHandshake)

// handshakeTimer bounds a handshake by Config.HandshakeTimeout on the
// network's clock: when it fires it cancels ctx (a dial or TLS handshake
// in progress) and closes the watched connection (a hello read or write in
// progress). The socket deadline set alongside it is only the OS-clock
// backstop (see osDeadline).
type handshakeTimer struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	conn    net.Conn
	fired   bool
	stopped bool
}

func (n *Network) startHandshakeTimer(parent context.Context) *handshakeTimer {
	ctx, cancel := context.WithCancel(parent)
	h := &handshakeTimer{ctx: ctx, cancel: cancel, done: make(chan struct{})}
	t := n.cfg.Clock.NewTimer(n.cfg.HandshakeTimeout)
	go func() {
		defer t.Stop()
		select {
		case <-h.done:
			return
		case <-t.C():
		}
		h.mu.Lock()
		if h.stopped {
			h.mu.Unlock()
			return
		}
		h.fired = true
		conn := h.conn
		h.mu.Unlock()
		cancel()
		if conn != nil {
			conn.Close()
		}
	}()
	return h
}

// watch makes the timer close conn when it fires, at once if it has.
func (h *handshakeTimer) watch(conn net.Conn) {
	h.mu.Lock()
	h.conn = conn
	fired := h.fired
	h.mu.Unlock()
	if fired {
		conn.Close()
	}
}

// stop ends the handshake's time: from then on the timer closes nothing.
// It reports false if the timer fired first (the connection is closed).
func (h *handshakeTimer) stop() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.stopped && !h.fired {
		h.stopped = true
		close(h.done)
	}
	h.cancel()
	return !h.fired
}

// err names a failure caused by the timer firing (which shows as a closed
// connection or a cancelled context) as the timeout it is.
func (h *handshakeTimer) err(err error) error {
	h.mu.Lock()
	fired := h.fired
	h.mu.Unlock()
	if fired && !errors.Is(err, errHandshakeTimeout) {
		return fmt.Errorf("%w: %v", errHandshakeTimeout, err)
	}
	return err
}

// osDeadline is the time d from now on the OS clock, for net.Conn
// deadlines: sockets (and memnet, which mimics them) compare deadlines
// with the OS clock, so a deadline computed from an injected clock would
// be wrong (a fake clock's Now may lie years away from the OS's). The
// socket deadlines are only a backstop so that no read or write blocks
// forever; the timeouts themselves run on Config.Clock (handshakeTimer,
// peer.watchIdle). A test with a fake clock therefore keeps the timeouts
// longer than it runs in real time, or the backstop acts first.
func osDeadline(d time.Duration) time.Time { return time.Now().Add(d) }
