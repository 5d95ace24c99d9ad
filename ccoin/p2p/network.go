package p2p

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/p2p/wire"

	"github.com/hashicorp/go-hclog"
)

// Internal bounds and periods.
const (
	eventBuffer     = 256
	maxBans         = 4096
	txFlushInterval = 20 * time.Millisecond
	txBatchCount    = 1000
	txBatchBytes    = 1 << 20
	pexInterval     = 3 * time.Minute
)

// Network is a running peer-to-peer endpoint.
type Network struct {
	seed       maphash.Seed
	cfg        Config
	chain      Chain
	handler    Handler
	log        hclog.Logger
	ln         net.Listener
	addr       string // bound listen address
	advertise  string
	nonce      uint64 // random per process: tells twins (one key, two processes) and self apart
	cert       tls.Certificate
	tlsCfg     *tls.Config
	budget     *sendBudget // answers queued to all peers
	strangers  *sendBudget // the share of inbound non-validators
	validators map[crypto.Address]bool
	keys       *crypto.KeyCache
	recent     recentSet // transactions of the blocks we announced, for GetBlockTxs
	fetches    fetchSet  // compact blocks being completed
	events     chan PeerEvent
	reqSeq     atomic.Uint64
	started    atomic.Bool
	kick       chan struct{} // wakes the dialer
	done       chan struct{} // closed when Run begins shutting down

	wg sync.WaitGroup

	// Transaction backlogs (see peer.queueTxs and Backlogged): how many
	// connected peers gossip relies on (validators and peers we dialled),
	// how many of those have a backlog past its high-water mark, and the
	// bytes queued to all strangers together.
	txRelied     atomic.Int32
	txBacklogged atomic.Int32
	strangerTxs  atomic.Int64

	mu          sync.Mutex
	stopping    bool
	peers       map[uint64]*peer
	conns       map[net.Conn]struct{} // connections in handshake, closed at shutdown
	inbound     int                   // inbound connections (handshaking or registered)
	handshaking int                   // inbound connections in handshake
	perIP       map[string]int        // the same, by remote IP
	bans        map[string]time.Time
	cands       map[string]*candidate
	dialing     map[string]bool
	selfAddrs   map[string]bool
}

// New checks cfg and binds the listener so Addr works at once; Run serves.
func New(cfg Config, chain Chain, h Handler) (*Network, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if chain == nil || h == nil {
		return nil, fmt.Errorf("%w: nil chain or handler", ErrConfig)
	}
	cert, err := selfSignedCert(c.Key)
	if err != nil {
		return nil, err
	}
	n := &Network{
		seed:       maphash.MakeSeed(),
		cfg:        c,
		chain:      chain,
		handler:    h,
		log:        c.Logger,
		cert:       cert,
		nonce:      rand.Uint64(),
		budget:     newSendBudget(c.SendBuffer),
		strangers:  newSendBudget(c.SendBuffer / 2),
		validators: make(map[crypto.Address]bool, len(c.Validators)),
		keys:       crypto.NewKeyCache(1024),
		events:     make(chan PeerEvent, eventBuffer),
		kick:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		peers:      make(map[uint64]*peer),
		conns:      make(map[net.Conn]struct{}),
		perIP:      make(map[string]int),
		bans:       make(map[string]time.Time),
		cands:      make(map[string]*candidate),
		dialing:    make(map[string]bool),
		selfAddrs:  make(map[string]bool),
	}
	n.tlsCfg = n.tlsConfig()
	for _, v := range c.Validators {
		n.validators[v] = true
	}
	if c.ListenAddr != "" {
		ln, err := c.Transport.Listen(c.ListenAddr)
		if err != nil {
			return nil, fmt.Errorf("p2p: listen %s: %w", c.ListenAddr, err)
		}
		n.ln = ln
		n.addr = ln.Addr().String()
	}
	n.advertise = c.AdvertiseAddr
	if n.advertise == "" {
		n.advertise = n.addr
	}
	if n.advertise != "" {
		n.selfAddrs[n.advertise] = true
	}
	if n.addr != "" {
		n.selfAddrs[n.addr] = true
	}
	for _, a := range c.BootstrapPeers {
		if err := validDialAddr(a); err != nil {
			if n.ln != nil {
				n.ln.Close()
			}
			return nil, fmt.Errorf("%w: bootstrap peer %q: %v", ErrConfig, a, err)
		}
		if !n.selfAddrs[a] {
			n.cands[a] = &candidate{bootstrap: true}
		}
	}
	return n, nil
}

// Addr is the bound listen address ("" when not listening).
func (n *Network) Addr() string { return n.addr }

// ID is what peers see as PeerInfo.ID for this process.
func (n *Network) ID() uint64 { return PeerID(n.cfg.Key.Address(), n.nonce) }

// Events reports peer connections, disconnections and missing parents.
func (n *Network) Events() <-chan PeerEvent { return n.events }

func (n *Network) emit(ev PeerEvent) {
	select {
	case n.events <- ev:
	default:
	}
}

// Run listens, dials and serves until ctx ends, then closes every peer and
// waits for all its goroutines before returning.
func (n *Network) Run(ctx context.Context) error {
	if !n.started.CompareAndSwap(false, true) {
		return errors.New("p2p: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n.log.Info("p2p starting", "listen", n.addr, "advertise", n.advertise, "node-address", n.cfg.Key.Address().String())
	if n.ln != nil {
		n.wg.Add(1)
		go n.acceptLoop(ctx)
	}
	n.wg.Add(1)
	go n.dialLoop(ctx)

	<-ctx.Done()
	close(n.done)
	if n.ln != nil {
		n.ln.Close()
	}
	n.mu.Lock()
	n.stopping = true
	peers := make([]*peer, 0, len(n.peers))
	for _, p := range n.peers {
		peers = append(peers, p)
	}
	for c := range n.conns {
		c.Close()
	}
	n.mu.Unlock()
	for _, p := range peers {
		p.close("shutdown")
	}
	n.wg.Wait()
	n.log.Info("p2p stopped")
	return nil
}

func (n *Network) acceptLoop(ctx context.Context) {
	defer n.wg.Done()
	for {
		conn, err := n.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			n.log.Warn("accept failed", "error", err)
			// The OS clock, not Config.Clock: this waits for the OS to
			// recover (say, from running out of file descriptors), and
			// on a fake clock it would stop accepting until a test
			// moved time.
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		if !n.trackConn(conn) {
			conn.Close()
			return
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.serveInbound(conn)
		}()
	}
}

// trackConn records a connection in handshake so shutdown can close it.
func (n *Network) trackConn(c net.Conn) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopping {
		return false
	}
	n.conns[c] = struct{}{}
	return true
}

func (n *Network) untrackConn(c net.Conn) {
	n.mu.Lock()
	delete(n.conns, c)
	n.mu.Unlock()
}

// Peers returns a snapshot of the connected peers.
func (n *Network) Peers() []PeerInfo {
	n.mu.Lock()
	ps := make([]*peer, 0, len(n.peers))
	for _, p := range n.peers {
		ps = append(ps, p)
	}
	n.mu.Unlock()
	out := make([]PeerInfo, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.snapshot())
	}
	return out
}

func (n *Network) peer(id uint64) *peer {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.peers[id]
}

func (n *Network) allPeers() []*peer {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*peer, 0, len(n.peers))
	for _, p := range n.peers {
		out = append(out, p)
	}
	return out
}

// itemKey is the per-peer "known" key of a gossiped item: a 64-bit keyed
// hash with this process's random seed. A cryptographic hash of every
// multi-megabyte block on every receive and relay cost a tenth of the
// node's CPU under load; the seed keeps keys unpredictable to peers, and a
// collision only skips one relay to one peer.
func (n *Network) itemKey(b []byte) uint64 {
	return maphash.Bytes(n.seed, b)
}

// BroadcastTxs queues txs for every peer that does not know them yet; they
// go out batched (every ~20 ms or ~1,000 txs / ~1 MiB).
func (n *Network) BroadcastTxs(txs [][]byte) { n.broadcastTxs(txs, false) }

// RegossipTxs queues txs for every peer, known to it or not: the node's
// regossip of transactions still pending after a few slots. "Known" only
// says a peer was sent a transaction or sent it to us, not that the peer
// kept it: a peer refuses one whose earlier nonces have not reached it
// yet (nonce_gap) and never gets it again through BroadcastTxs. A peer
// that holds it already discards the copy before any signature work.
func (n *Network) RegossipTxs(txs [][]byte) { n.broadcastTxs(txs, true) }

func (n *Network) broadcastTxs(txs [][]byte, again bool) {
	if len(txs) == 0 {
		return
	}
	keys := make([]uint64, len(txs))
	for i, tx := range txs {
		keys[i] = n.itemKey(tx)
	}
	for _, p := range n.allPeers() {
		p.queueTxs(txs, keys, again)
	}
}

// BroadcastVote relays a finality vote to every peer that has not seen it.
func (n *Network) BroadcastVote(vote []byte) {
	h, body, err := wire.Encode(&wire.Vote{Vote: vote})
	if err != nil {
		n.log.Warn("cannot broadcast vote", "error", err)
		return
	}
	key := n.itemKey(vote)
	for _, p := range n.allPeers() {
		if p.markKnown(key) {
			p.enqueue(h, body)
		}
	}
}

// Ban disconnects a peer and bans it for BanDuration.
func (n *Network) Ban(peerID uint64, reason string) {
	if p := n.peer(peerID); p != nil {
		p.misbehave(reason)
	}
}

// DisconnectPeer closes the connection to a peer without banning it; the
// dialer may reconnect later, subject to Config.AcceptPeer. It reports
// whether the peer was connected.
func (n *Network) DisconnectPeer(peerID uint64, reason string) bool {
	p := n.peer(peerID)
	if p == nil {
		return false
	}
	p.close(reason)
	return true
}

// Ban keys: a proven address, or a remote IP (or memnet host).
func addrBanKey(a crypto.Address) string { return "addr:" + a.String() }
func ipBanKey(host string) string        { return "ip:" + host }

// remoteHost is the host part of a remote address, and whether it is a
// loopback IP (many local nodes share it, so it is never banned).
func remoteHost(a net.Addr) (host string, loopback bool) {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String(), t.IP.IsLoopback()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String(), false
	}
	ip := net.ParseIP(host)
	return host, ip != nil && ip.IsLoopback()
}

// dialBanKey is the ban key of a dial target that is a literal IP other
// than loopback ("" for names and loopback, checked once connected).
func dialBanKey(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsLoopback() {
		return ""
	}
	return ipBanKey(ip.String())
}

// banIdentity bans a proven address and, off loopback, its IP.
func (n *Network) banIdentity(addr crypto.Address, host string, loopback bool, reason string) {
	n.ban(addrBanKey(addr), reason)
	if !loopback && host != "" {
		n.ban(ipBanKey(host), reason)
	}
}

func (n *Network) ban(key, reason string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.cfg.Clock.Now()
	if len(n.bans) >= maxBans {
		for k, until := range n.bans {
			if now.After(until) {
				delete(n.bans, k)
			}
		}
		for k := range n.bans { // still full: forget an arbitrary ban
			if len(n.bans) < maxBans {
				break
			}
			delete(n.bans, k)
		}
	}
	n.bans[key] = now.Add(n.cfg.BanDuration)
	n.log.Warn("peer banned", "ban-key", key, "reason", reason, "until", n.bans[key].Format(time.RFC3339))
}

func (n *Network) isBanned(key string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	until, ok := n.bans[key]
	if !ok {
		return false
	}
	if n.cfg.Clock.Now().After(until) {
		delete(n.bans, key)
		return false
	}
	return true
}
