// Package chain stores blocks and state in LevelDB and decides which chain
// is canonical.
//
// Every block is committed in one synced LevelDB batch together with its
// state tree nodes, its undo/redo record and, when it moves the head, the
// flat account table, the canonical and transaction indexes and the head
// and finalized pointers. A kill -9 at any moment therefore leaves either
// the whole block or none of it.
//
// Finality is decided by signed votes (Casper FFG over slots, DESIGN
// section 5) in consensus.Finality, which the chain asks through the
// Finality interface (required); the chain never treats a block as final
// because of its shape. Fork choice is total: only branches containing the
// local final block count; then the highest justified epoch on a branch,
// then greater height, then lower head slot, then lower block id.
//
// The data directory's layout carries a schema version (schema.go): a
// directory written by an older layout is refused, never misread.
package chain
