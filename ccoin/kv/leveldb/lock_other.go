//go:build !unix

package leveldb

// isLocked: outside Unix LevelDB's lock error is reported as it is.
func isLocked(error) bool { return false }
