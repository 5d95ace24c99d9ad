// Package node wires the chain, the pool, consensus, the network, the HTTP
// API and discovery into a running basic or validator node, and owns the
// pieces that need all of them: the sync state machine, the gossip handler
// that classifies what peers send, held near-future blocks, events and
// metrics. Run(ctx) starts everything and stops it in order when ctx ends.
package node
