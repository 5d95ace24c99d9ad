// Package leveldb is the kv.Store a node runs on: goleveldb with checksums
// verified on every read. Open takes a directory; OpenStorage takes a
// goleveldb storage.Storage, which the simulator uses with an in-memory
// one to model kill -9 (only what was synced survives a crash).
//
// Besides kv.Store it offers a bulk transaction (kv.Bulker), reverse
// iteration (kv.ReverseIteratee) and compaction (kv.Compacter).
package leveldb
