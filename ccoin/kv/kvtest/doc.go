// Package kvtest is the conformance suite every kv.Store implementation
// runs, so that code tested on memorydb behaves the same on leveldb.
package kvtest
