// Package chain stores blocks and state in a kv.Store (LevelDB in a node)
// and decides which chain is canonical. It reads and writes records only
// through the accessors of package rawdb (blocks, indexes, pointers, votes)
// and package state (accounts, undo records, tree nodes).
//
// Every block is committed in one synced batch together with its
// state tree nodes, its undo/redo record and, when it moves the head, the
// flat account table, the canonical, transaction and address indexes and
// the head and finalized pointers. A kill -9 at any moment therefore leaves either
// the whole block or none of it.
//
// Finality is decided by signed votes (Casper FFG over slots, DESIGN
// section 5) in consensus.Finality, which the chain asks through the
// Finality interface (required); the chain never treats a block as final
// because of its shape. Fork choice is total: only branches containing the
// local final block count; then the highest justified epoch on a branch,
// then greater height, then lower head slot, then lower block id.
//
// The data directory's layout (rawdb) carries a schema version, checked in
// schema.go: a directory written by an older layout is refused, never
// misread.
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
