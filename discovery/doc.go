// Package discovery is ccoin's peer registry: a small HTTP JSON service where
// nodes announce where they can be reached, and a client that registers a node
// and fetches a random sample of live peers.
//
// The registry is only a bootstrap aid. It must not be able to hurt the
// network, so every registration and removal is signed by the node's account
// key over a canonical text (see SigningText); the registry checks that the
// key hashes to the announced address, that the signature verifies, that the
// timestamp is close to its own clock and newer than what it already holds.
// Nobody can therefore add, overwrite or remove an entry under another node's
// address, and a captured request cannot be replayed.
//
// A registration's host must be the address it came from (an IP literal
// equal to it, or a name resolving to it; loopback matches loopback), so
// nobody can point the network's nodes at a third party; behind a reverse
// proxy the source is the last X-Forwarded-For entry (TrustProxy), and
// AnyHost turns the check off.
//
// Entries expire unless refreshed within the TTL. Everything fed by outside
// input is bounded: the table (MaxEntries, and per source address and per
// source address range), request bodies, the per-IP and per-range rate
// limiters and their tables.
// The table survives restarts in a JSON state file written atomically.
//
// Two interfaces are served: the prototype's command form (POST / with
// {"command": "add"|"remove"|"get_all"}) and a REST form under /peers.
package discovery
