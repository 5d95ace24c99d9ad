// Package memorydb is an in-memory kv.Store: a map with sorted iteration,
// for unit tests that need a database but not durability. Sync is
// accepted and ignored; everything is lost with the process.
package memorydb
