// Package rawdb is the chain's storage schema in one place: the key layout
// of the data directory and typed accessors that read and write one kind
// of record each, so that the chain and the vote store never build a key.
//
// Reads take a kv.Reader (or kv.Iteratee) and return kv.ErrNotFound for an
// absent record. Writes go into a Writer (a kv.Batch or a kv.Bulk): the
// caller decides which records commit together and whether the commit is
// synced, which is where the node's durability rules live.
//
// The state tables (accounts 'a', undo records 'u', tree nodes 's') belong
// to package state, which keeps their accessors; they are listed in
// schema.go so that the whole key space can be read in one place.
package rawdb
