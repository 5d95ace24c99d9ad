// Package chain stores blocks and state in LevelDB and decides which chain
// is canonical.
//
// Every block is committed in one synced LevelDB batch together with its
// state tree nodes, its undo/redo record and, when it moves the head, the
// flat account table, the canonical, transaction and address indexes and
// the head and finalized pointers. A kill -9 at any moment therefore leaves either
// the whole block or none of it.
//
// Fork choice is total: only branches containing the local finalized block
// count; then greater height, then lower head slot, then lower block id.
// A block is final once the distinct sealers of it and of the blocks built
// on it reach the genesis quorum (Aura-style rolling finality). That rule is
// safe when validators crash or are cut off cleanly and messages arrive
// within a slot; under asymmetric partitions or long delays two groups can
// finalize conflicting blocks, which only explicit votes would prevent.
//
// The address index (AddressTxs, schema table x) keeps, for every address,
// the canonical transactions it sent or received in the newest
// Config.AddressIndexBlocks blocks (default 100,000, about 28 hours of
// one-second slots): two 65-byte entries per transfer, and each new block
// drops those of the block leaving the window, so its size is bounded by
// the window, not the chain. A reorg removes the abandoned blocks' entries
// and adds the new branch's in its batch. Reads are bounded (MaxAddressTxs
// per call, newest first, paged by block number); blocks written before the
// index existed, and the state a snapshot started from, have no entries.
package chain
