// Package p2p is ccoin's peer-to-peer layer: it listens and dials through a
// Transport (TCP in production), secures every connection with mutually
// authenticated TLS 1.3, runs the HEY/ACK handshake inside it, keeps each
// peer on a reader and a writer goroutine with bounded send queues,
// gossips transactions and blocks (each item at most once per peer;
// blocks as compact blocks, header and transaction ids, which the receiver
// fills from its pool and completes by asking the announcer for what it
// lacks, compact.go), answers head/block/leader/snapshot requests from the node's Chain,
// matches answers to the node's own requests, exchanges peer addresses,
// and disconnects and bans peers that misbehave.
//
// # Identity and handshake (protocol 3)
//
// Each node presents a self-signed X.509 certificate whose public key is
// its account key (RSA-2048, e=65537), as libp2p's TLS handshake binds a
// peer id. Both sides must present one (tls.RequireAnyClientCert); there
// is no CA and no host name: VerifyConnection accepts exactly one
// certificate that is self-signed and whose key is a valid account key,
// and the peer's address is derived from that key. TLS 1.3 itself proves
// that the peer holds the key, over both sides' fresh randomness, so a
// recorded handshake cannot be replayed to a third node (protocol 1 signed
// a HEY the other side had no part in, and anyone could replay a
// validator's ACK as that validator). Session resumption is off, and the
// validity period is not checked, so a skewed clock cannot cut a node off.
//
// Inside TLS the dialer sends HEY and the listener answers ACK: protocol
// version, network id, chain id, the node address (which must equal the
// certificate's; a mismatch gets the proven identity banned), listen
// address, head, software version, node type, a per-process nonce and the
// sender's clock (a skew over MaxClockSkew is logged, not refused). A
// peer of another network or genesis is refused without a ban; so is a
// peer of another protocol version, with a message naming both versions
// (a protocol 1 node, which sends its HEY in clear, is recognised by its
// first bytes).
//
// A peer is identified by its proven address plus its nonce; PeerInfo.ID
// is 8 bytes of SHA-256 over both. Only a key's holder can present a
// nonce for its address, so nobody can evict another node's link. The
// nonce tells apart two processes holding one key (a validator run twice
// equivocates, and the network must see both) and detects dialling
// oneself. A second link to the same identity in the same direction is
// refused; when two nodes dial each other at once, both keep the link
// dialled by the lower address (then the lower nonce).
//
// # Bounds on what strangers can make a node hold
//
// Everything a peer sends is hostile until proven otherwise. Frames (a
// 4-byte little-endian length, a 3-letter header, a msgpack body; package
// wire) keep their format inside TLS and are length-checked before any
// allocation. Before the handshake completes the limits are the
// handshake's own size: at most handshakeReadLimit (32 KiB) read from the
// connection, HEY/ACK frames of at most wire.MaxHelloFrame (1 KiB), and at
// most MaxHandshakes inbound connections in handshake at once, each for at
// most HandshakeTimeout. Inbound connections are also bounded in total
// (MaxInbound) and per IP (MaxPerIP, loopback exempt).
//
// After the handshake, what a peer's requests make the node queue is
// bounded in total, not only per peer: answers (and pongs) wait for room
// in the peer's budget (MaxServing answers and PeerSendBuffer bytes, or
// InboundSendBuffer for inbound non-validators) and in the node's
// SendBuffer, of which inbound non-validators together may hold only half,
// so validators and the peers we chose are served during a flood. The
// peer's reader waits for that room, so a peer that asks and never reads
// is not read either (TCP pushes back on it) and is dropped after
// IdleTimeout. Our own frames (blocks, votes, requests) are bounded per
// peer, and a peer that falls too far behind on them is dropped.
// Transactions are not a reason to drop a peer: each peer's backlog of
// them is bounded (TxBacklog; strangers an eighth each, and TxBacklog
// together), and what does not fit is left for the node's regossip. Once
// every validator and outbound peer has TxBacklogHigh queued (a second's
// worth; TxBacklog bounds memory, this bounds waiting), Backlogged
// reports it, and the node refuses new client transactions
// (503 overloaded) instead of queuing what it cannot send. A peer whose
// writes make no progress for IdleTimeout is dropped; one that reads
// slowly but steadily is kept. A per-peer token
// bucket bans message floods and throttles byte floods, every map fed by
// peers is bounded, and one bad or slow peer is dropped without stalling
// the others.
//
// Bans are by proven address and by remote IP (except loopback, where
// many local nodes share one IP), never by anything a peer only claims.
//
// # Gossip and liveness
//
// Blocks and transactions stay opaque canonical encodings here: the node
// validates them through the Handler it passes to New, and the network only
// acts on the verdict (relay, ignore, or ban the sender). This keeps the
// network testable without a chain and the chain testable without sockets.
//
// A cut link often delivers no FIN, so liveness is the peer's own: PNG every
// PingInterval, and a peer silent for IdleTimeout is dropped (the node sets
// both in slots). Bootstrap and validator addresses are then redialled with
// a backoff capped at PriorityRedial, so a healed partition reconnects within
// seconds rather than when TCP's retransmit backoff next fires.
//
// # Transport
//
// The network runs over a Transport (listen, dial) declared here. TCP is
// the production one; package memnet is an in-memory one whose links a
// test controls (delay, loss, one-way and two-way partitions), used by
// multi-node tests and meant for a deterministic simulator.
//
// # Time
//
// Every timer and timestamp comes from Config.Clock (clock.Real by
// default): pings, idle and handshake timeouts, request timeouts, bans,
// dial backoff and the flood buckets, so a test with a clock.Fake decides
// when they fall due. Socket deadlines are the exception: sockets compare
// them with the OS clock, so they stay on it, as a backstop behind the
// clock's own timers (osDeadline).
package p2p
