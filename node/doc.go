// Package node wires the chain, the pool, consensus, the network, sync
// (package syncer), the HTTP API and discovery into a running basic or
// validator node, and owns the pieces that need all of them: the gossip
// handler that classifies what peers send, held near-future blocks,
// transaction re-offers, events and metrics. Run(ctx) starts everything
// and stops it in order when ctx ends.
package node
