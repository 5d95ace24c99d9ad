package p2p

import (
	"errors"
	"fmt"
	"time"

	"ccoin/ccoin/clock"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/p2p/wire"
	"ccoin/ccoin/types"

	"github.com/hashicorp/go-hclog"
)

// Error kinds; test with errors.Is.
var (
	ErrNetworkMismatch = errors.New("p2p: other network id")
	ErrChainMismatch   = errors.New("p2p: other chain id")
	ErrProtocol        = errors.New("p2p: other protocol version")
	ErrBadCertificate  = errors.New("p2p: peer certificate is not a valid account key")
	ErrAddressMismatch = errors.New("p2p: claimed node address is not the certificate's")
	ErrSelfConnection  = errors.New("p2p: connection to self")
	ErrDuplicatePeer   = errors.New("p2p: already connected to this peer")
	ErrTooManyPeers    = errors.New("p2p: no free peer slot")
	ErrBanned          = errors.New("p2p: peer is banned")
	ErrHandshake       = errors.New("p2p: handshake failed")
	ErrUnknownPeer     = errors.New("p2p: no such peer")
	ErrPeerGone        = errors.New("p2p: peer disconnected")
	ErrTimeout         = errors.New("p2p: request timed out")
	ErrBusy            = errors.New("p2p: too many requests in flight to this peer")
	ErrBadAnswer       = errors.New("p2p: invalid answer")
	ErrClosed          = errors.New("p2p: network stopped")
	ErrConfig          = errors.New("p2p: bad config")
	ErrPeerRefused     = errors.New("p2p: peer refused by local policy")
)

// Config configures a Network. Zero values take the defaults noted.
type Config struct {
	ListenAddr    string // "127.0.0.1:0" picks a free port; empty: do not listen
	AdvertiseAddr string // what we tell others to dial; default = the bound listen address
	NetworkID     uint64
	ChainID       [32]byte
	Key           *crypto.PrivateKey // node identity: the key of our TLS certificate (required)
	NodeType      string             // "validator" or "basic"
	Version       string

	Validators     []crypto.Address // genesis miners: outbound slots are reserved for them
	BootstrapPeers []string         // static "host:port" peers, always (re)dialled with backoff

	MaxInbound             int // default 64
	MaxOutbound            int // default 16
	ReservedValidatorSlots int // outbound slots only validators may take; default min(4, MaxOutbound/2)
	MaxPerIP               int // inbound connections per remote IP (loopback exempt); default 8
	// MaxHandshakes bounds inbound connections that have not completed
	// the handshake; more are closed at once. Default 32.
	MaxHandshakes int

	MaxFrame int // default wire.DefaultMaxFrame
	// UnaskedFrame bounds a frame a non-validator sends unasked (its
	// answers to our requests may reach MaxFrame): only validators' blocks
	// and sync answers need large frames, and anyone can be a
	// non-validator. Default wire.DefaultUnaskedFrame, at most MaxFrame.
	UnaskedFrame int
	BanDuration  time.Duration // default 1h
	PingInterval time.Duration // default 15s
	IdleTimeout  time.Duration // silence after which a peer is dropped; default 60s
	// PriorityRedial caps the backoff between failed dials of a bootstrap
	// or validator address (others back off up to two minutes), so a node
	// cut off from them reconnects within seconds of the link healing.
	PriorityRedial   time.Duration // default 4s
	HandshakeTimeout time.Duration // default 10s
	RequestTimeout   time.Duration // default 15s

	// Flood limits per peer (token buckets with a two-second burst). Over
	// the message rate a peer is banned; the byte rate is kept by pausing
	// reads, because honest peers under load exceed it too.
	MaxMsgsPerSec  int // default 1000
	MaxBytesPerSec int // default 32 MiB

	// What peers can make the node hold in send buffers. Answers to a
	// peer's requests (and its pings) are queued only within these
	// budgets; a peer's reader waits for room, so a peer that asks and
	// never reads stops being read (TCP pushes back on it) and is dropped
	// after IdleTimeout, instead of growing the heap.
	SendBuffer        int // answers queued to all peers together (inbound non-validators: half); default 64 MiB, at least 2×MaxFrame
	PeerSendBuffer    int // answers queued to one validator or outbound peer; default 16 MiB
	InboundSendBuffer int // answers queued to one inbound non-validator; default 2 MiB
	MaxServing        int // requests of one peer answered but not yet sent; default 8

	// TxBacklog bounds the transactions queued for gossip to one
	// validator or outbound peer, in bytes (each tx counts 64 more); an
	// inbound non-validator gets an eighth of it, and all of those
	// together TxBacklog. A peer whose backlog is full is not dropped: the
	// transactions that do not fit are left for the node's regossip.
	// Default 32 MiB.
	TxBacklog int
	// TxBacklogHigh: once every validator and outbound peer has this much
	// queued, Backlogged reports true (and false again at half of it).
	// It is a latency bound, where TxBacklog is a memory bound: a peer
	// takes transactions about as fast as it verifies them, so at half of
	// 32 MiB (25,000 transfers) each waited seconds in the queue before the
	// node refused clients, and inclusion p99 reached 14 slots. Default
	// 4 MiB (about a second of transfers at the rate a 2-core devnet
	// verifies), at most half of TxBacklog.
	TxBacklogHigh int

	// Transport listens and dials; nil means TCP. Tests pass an in-memory
	// one (package memnet).
	Transport Transport

	// AcceptPeer, when set, is asked after every successful handshake (both
	// directions) whether to keep the peer; an error refuses it without a ban
	// and the dialer retries later. Nil accepts every peer. It lets an
	// operator pin a node to chosen peers and lets tests cut the network into
	// partitions (with DisconnectPeer) and heal it. It must be fast and safe
	// for concurrent use.
	AcceptPeer func(PeerInfo) error

	// Clock times everything the network does by the clock: keep-alive
	// pings, idle and handshake timeouts, request timeouts, bans and dial
	// backoff, flood-rate windows. Nil means clock.Real; tests pass a
	// clock.Fake. Socket deadlines are the exception (see osDeadline).
	Clock clock.Clock

	Logger hclog.Logger
}

// Defaults.
const (
	DefaultMaxInbound     = 64
	DefaultMaxOutbound    = 16
	DefaultMaxPerIP       = 8
	DefaultBanDuration    = time.Hour
	DefaultPingInterval   = 15 * time.Second
	DefaultIdleTimeout    = 60 * time.Second
	DefaultPriorityRedial = 4 * time.Second
	DefaultHandshake      = 10 * time.Second
	DefaultRequestTimeout = 15 * time.Second
	DefaultMaxMsgsPerSec  = 1000
	DefaultMaxBytesPerSec = 32 << 20
	DefaultMaxHandshakes  = 32

	DefaultSendBuffer        = 64 << 20
	DefaultPeerSendBuffer    = 16 << 20
	DefaultInboundSendBuffer = 2 << 20
	DefaultMaxServing        = 8
	DefaultTxBacklog         = 32 << 20
	DefaultTxBacklogHigh     = 4 << 20

	// MaxClockSkew: a peer whose clock differs from ours by more is
	// logged at the handshake (TLS, not the clock, makes the handshake
	// fresh, so a skewed peer is not refused).
	MaxClockSkew = 5 * time.Minute
)

func (c *Config) withDefaults() (Config, error) {
	out := *c
	if out.Key == nil {
		return out, fmt.Errorf("%w: no node key", ErrConfig)
	}
	if len(out.NodeType) > wire.MaxNodeTypeLen || len(out.Version) > wire.MaxVersionLen ||
		len(out.AdvertiseAddr) > wire.MaxAddrLen {
		return out, fmt.Errorf("%w: node type, version or advertise address too long", ErrConfig)
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&out.MaxInbound, DefaultMaxInbound)
	def(&out.MaxOutbound, DefaultMaxOutbound)
	if out.ReservedValidatorSlots <= 0 {
		out.ReservedValidatorSlots = min(4, out.MaxOutbound/2)
	}
	out.ReservedValidatorSlots = min(out.ReservedValidatorSlots, out.MaxOutbound)
	def(&out.MaxPerIP, DefaultMaxPerIP)
	def(&out.MaxFrame, wire.DefaultMaxFrame)
	def(&out.UnaskedFrame, wire.DefaultUnaskedFrame)
	out.UnaskedFrame = min(out.UnaskedFrame, out.MaxFrame)
	def(&out.MaxMsgsPerSec, DefaultMaxMsgsPerSec)
	def(&out.MaxBytesPerSec, DefaultMaxBytesPerSec)
	def(&out.MaxHandshakes, DefaultMaxHandshakes)
	def(&out.SendBuffer, DefaultSendBuffer)
	out.SendBuffer = max(out.SendBuffer, 2*out.MaxFrame)
	def(&out.PeerSendBuffer, DefaultPeerSendBuffer)
	def(&out.InboundSendBuffer, DefaultInboundSendBuffer)
	def(&out.MaxServing, DefaultMaxServing)
	def(&out.TxBacklog, DefaultTxBacklog)
	def(&out.TxBacklogHigh, DefaultTxBacklogHigh)
	out.TxBacklogHigh = min(out.TxBacklogHigh, out.TxBacklog/2)
	if out.Transport == nil {
		out.Transport = TCP{}
	}
	defD(&out.BanDuration, DefaultBanDuration)
	defD(&out.PingInterval, DefaultPingInterval)
	defD(&out.IdleTimeout, DefaultIdleTimeout)
	defD(&out.PriorityRedial, DefaultPriorityRedial)
	defD(&out.HandshakeTimeout, DefaultHandshake)
	defD(&out.RequestTimeout, DefaultRequestTimeout)
	out.Clock = clock.Or(out.Clock)
	if out.Logger == nil {
		out.Logger = hclog.NewNullLogger()
	}
	return out, nil
}

// Chain is what the network reads from the node.
type Chain interface {
	Head() (height uint64, id [32]byte, finalizedHeight uint64)
	// BlocksByNumber returns canonical encodings of up to count consecutive
	// blocks from number from, stopping before their total size exceeds maxBytes.
	BlocksByNumber(from uint64, count int, maxBytes int) [][]byte
	Leader(nowMs uint64) (slot uint64, leader crypto.Address)
	// FinalityEvidence returns the newest finality certificate (nil if
	// none beyond genesis) and, when id is not zero, the votes that
	// justified checkpoint (epoch, id).
	FinalityEvidence(epoch uint64, id [32]byte) (cert []byte, votes [][]byte)
	// BlockByID returns the encoding of a stored block, nil if unknown
	// (to serve the transactions of a compact block, GetBlockTxs).
	BlockByID(id [32]byte) []byte
}

// Verdict is the node's judgement of gossip received from a peer.
type Verdict int

const (
	// Accepted: new and valid; relay it to the other peers.
	Accepted Verdict = iota
	// Known: already seen; ignore.
	Known
	// MissingParent: the block's ancestors are unknown; the network emits an
	// EventMissingParent so the syncer can fetch them from that peer.
	MissingParent
	// Future: held by the node for later; no penalty, not relayed.
	Future
	// Rejected: the peer misbehaved; it is disconnected and banned.
	Rejected
)

func (v Verdict) String() string {
	switch v {
	case Accepted:
		return "accepted"
	case Known:
		return "known"
	case MissingParent:
		return "missing-parent"
	case Future:
		return "future"
	case Rejected:
		return "rejected"
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// Handler receives gossip (implemented by the node). It is called from the
// sending peer's reader goroutine, so a slow handler slows only that peer.
type Handler interface {
	HandleTxs(from PeerInfo, txs [][]byte) (relay [][]byte, v Verdict, err error)
	HandleBlock(from PeerInfo, block []byte) (Verdict, error)
	// FillBlock fills a compact block: the canonical encodings of the
	// transactions among ids that the node holds (nil where it lacks one),
	// or known when it has the block already.
	FillBlock(id types.Hash, ids []types.Hash) (txs [][]byte, known bool)
	// HandleVote judges a finality vote: Accepted relays it, Rejected bans
	// the sender, MissingParent says it names blocks this node lacks.
	HandleVote(from PeerInfo, vote []byte) (Verdict, error)
}

// PeerInfo describes a connected peer.
type PeerInfo struct {
	ID              uint64         // PeerID(NodeAddress, the peer's nonce): one per peer process
	NodeAddress     crypto.Address // the address of the key in the peer's TLS certificate
	ListenAddr      string
	RemoteAddr      string
	NodeType        string
	Version         string
	Inbound         bool
	Height          uint64
	HeadID          [32]byte
	FinalizedHeight uint64
	ConnectedAt     time.Time

	nonce uint64
}

// EventType says what happened to a peer.
type EventType int

const (
	EventConnected EventType = iota
	EventDisconnected
	// EventMissingParent: the peer sent a block whose parent the node lacks.
	EventMissingParent
)

func (t EventType) String() string {
	switch t {
	case EventConnected:
		return "connected"
	case EventDisconnected:
		return "disconnected"
	case EventMissingParent:
		return "missing-parent"
	}
	return fmt.Sprintf("event(%d)", int(t))
}

// PeerEvent is sent on Events(); the channel is bounded and events are
// dropped rather than block the network when nobody reads.
type PeerEvent struct {
	Type   EventType
	Peer   PeerInfo
	Reason string // why a peer disconnected
}
