package node

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"ccoin/ccoin/clock"
	"ccoin/ccoin/txpool"
)

// journalInterval is how often the pool is journaled while the node runs, so
// that a crash loses at most this much of it; a clean stop journals last.
const journalInterval = time.Minute

// JournalPath is the pool journal in a data directory.
func JournalPath(datadir string) string { return filepath.Join(datadir, "txpool.journal") }

// runJournal restores the pool a previous run journaled (re-checking every
// transaction against the current head), then journals it periodically.
// It reports through n.journalReady whether the restore finished, because
// saving a half-restored pool at shutdown would lose the rest.
func (n *Node) runJournal(ctx context.Context) error {
	path := JournalPath(n.opts.DataDir)
	start := n.opts.Clock.Now()
	added, dropped, err := n.pool.LoadJournal(path)
	switch {
	case errors.Is(err, txpool.ErrJournal):
		n.log.Warn("pool journal damaged: kept the transactions before the damage", "error", err,
			"restored", added, "dropped", dropped)
	case err != nil:
		return err
	case added+dropped > 0:
		n.log.Info("restored pooled transactions", "restored", added, "dropped", dropped,
			"took", n.opts.Clock.Now().Sub(start).Round(time.Millisecond))
	}
	// The restore is complete (LoadJournal does not stop early), so the
	// pool may be journaled at shutdown even if that has begun already: a
	// node stopped right after it started keeps what it accepted meanwhile.
	n.journalReady.Store(true)
	if ctx.Err() != nil {
		return nil
	}
	clock.Every(ctx, n.opts.Clock, journalInterval, func() {
		if _, err := n.pool.SaveJournal(path); err != nil {
			n.log.Warn("journal the pool", "error", err)
		}
	})
	return nil
}

// saveJournal journals the pool at shutdown, once it was restored.
func (n *Node) saveJournal() {
	if !n.journalReady.Load() {
		return
	}
	count, err := n.pool.SaveJournal(JournalPath(n.opts.DataDir))
	if err != nil {
		n.log.Error("journal the pool", "error", err)
		return
	}
	n.log.Info("journaled pooled transactions", "count", count)
}
