// Package blockfile keeps the large values of a key-value store, block
// encodings, in append-only segment files beside it, and stores only a
// small reference in the store itself.
//
// Why: a loaded node wrote every block (megabytes, incompressible
// signatures and keys) into LevelDB, which then rewrote it in compaction
// after compaction: 16 to 27 % of a devnet's CPU under load. Appended once
// to a file, a block costs one write and one fsync.
//
// Store wraps a kv.Store: writes of the keys its predicate selects go to
// the current segment when the batch is written (appended and fsynced
// before the batch, so a committed reference never points at bytes a crash
// could lose); reads resolve references. A crash between the two leaves
// bytes no reference names, which are never read. Values written before
// (inline) are still read as they are. Every reference carries a CRC-32C
// of its bytes, so damage is reported (kv.ErrCorrupt), not served.
package blockfile
