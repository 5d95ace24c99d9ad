// Package syncer brings a node's chain up to its peers' and keeps it there.
//
// Syncer is the boot -> syncing -> ready state machine: it waits briefly
// for peers, asks them for their heads, downloads the blocks it lacks in
// batches from the best peer (moving to another when one stalls, lies or
// serves invalid blocks, and skipping a failed peer for a while), learns
// finality from the certificate of the peer with the highest final block,
// and reports ready once no peer is ahead. FastSync runs before the chain
// is opened: it fetches and verifies the newest finalized snapshot peers
// offer, so that block sync starts from its height instead of genesis.
//
// The package holds no node. It takes what it uses as narrow interfaces
// (Network and SnapshotNetwork for the p2p requests, Chain for the head
// and final block) and function hooks (import a block, learn finality,
// hold a near-future block, re-offer pending transactions, report the
// state), all in Config or FastConfig; the node is the composition root
// that wires them. All time goes through a clock.Clock, so tests drive it
// with clock.Fake. Request deadlines are context deadlines, which the
// network enforces.
package syncer
