// Package p2p is ccoin's peer-to-peer layer: it listens and dials over TCP,
// runs the signed HEY/ACK handshake, keeps each peer on a reader and a
// writer goroutine with a bounded send queue, gossips transactions and blocks
// (each item at most once per peer), answers head/block/leader requests from
// the node's Chain, matches answers to the node's own requests, exchanges
// peer addresses, and disconnects and bans peers that misbehave.
//
// Blocks and transactions stay opaque canonical encodings here: the node
// validates them through the Handler it passes to New, and the network only
// acts on the verdict (relay, ignore, or ban the sender). This keeps the
// network testable without a chain and the chain testable without sockets.
//
// Everything a peer sends is hostile until proven otherwise: frames are
// length-checked before allocation (package wire), every queue and map fed by
// peers is bounded, a per-peer token bucket stops floods, and one bad or slow
// peer is dropped without stalling the others.
//
// A cut link often delivers no FIN, so liveness is the peer's own: PNG every
// PingInterval, and a peer silent for IdleTimeout is dropped (the node sets
// both in slots). Bootstrap and validator addresses are then redialled with
// a backoff capped at PriorityRedial, so a healed partition reconnects within
// seconds rather than when TCP's retransmit backoff next fires.
package p2p
