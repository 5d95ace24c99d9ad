// Package votetest finalizes blocks with signed votes for tests that need
// finality (sync, snapshots, history built straight into a data directory)
// without running validators.
package votetest
