package node

import (
	"context"
	"fmt"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/snapshot"
	"ccoin/ccoin/syncer"
)

// Sync states and modes, from package syncer.
const (
	StateBoot     = syncer.StateBoot
	StateSyncing  = syncer.StateSyncing
	StateReady    = syncer.StateReady
	StateSnapshot = syncer.StateSnapshot // fetching a snapshot; the chain is not open yet

	SyncFull     = syncer.SyncFull     // replay every block from genesis
	SyncSnapshot = syncer.SyncSnapshot // fetch the latest finalized snapshot from peers, then sync blocks
)

// snapshotPending reports whether the node must fetch a snapshot before it
// opens its chain: snapshot mode and a chain that holds only genesis.
func (n *Node) snapshotPending() (bool, error) {
	switch n.opts.SyncMode {
	case "", SyncFull:
		return false, nil
	case SyncSnapshot:
	default:
		return false, fmt.Errorf("%w: sync mode %q (want full or snapshot)", ErrConfig, n.opts.SyncMode)
	}
	probe, err := chain.Open(n.db, chain.Config{Genesis: n.g, Verifier: consensus.NewEngine(n.g, nil), Finality: chain.ReadOnly{}})
	if err != nil {
		return false, err
	}
	head, _ := probe.Head()
	if head.Number > 1 {
		n.log.Info("chain already past genesis: syncing blocks, not a snapshot", "height", head.Number)
		return false, nil
	}
	return true, nil
}

// fastSync fetches a snapshot from peers into the (closed) chain database
// (see syncer.FastSync); Run opens the chain afterwards.
func (n *Node) fastSync(ctx context.Context) error {
	db, g := n.db, n.g
	return syncer.FastSync(ctx, syncer.FastConfig{
		Net:     n.net,
		Genesis: g,
		Import: func(m *snapshot.Manifest, chunks syncer.Chunks) error {
			raw, err := chain.StoredGenesis(db)
			if err != nil {
				return err
			}
			return snapshot.ImportVerified(db, g, raw, m, chunks, nil)
		},
		Wait:   n.opts.SnapshotWait,
		Clock:  n.opts.Clock,
		Logger: n.log.Named("snapshot-sync"),
	})
}
