// Package kv is the storage seam of the node: small key-value interfaces
// that the chain, the state tree and the vote store are written against,
// so that none of them names the database engine.
//
// Two implementations exist: kv/leveldb (goleveldb, what a node runs on,
// and what the simulator runs on through goleveldb's in-memory storage,
// which keeps only synced writes across a simulated kill -9) and
// kv/memorydb (a sorted map for unit tests). kv/kvtest holds the
// conformance suite both must pass.
//
// The core interfaces are what every implementation offers. Abilities
// that only one engine has (a bulk transaction for huge atomic writes,
// reverse iteration, compaction) are separate one-method interfaces that
// the consumer checks for with a type assertion and works without.
package kv
