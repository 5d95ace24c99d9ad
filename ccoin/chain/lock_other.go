//go:build !unix

package chain

// isLocked: outside Unix LevelDB's lock error is reported as it is.
func isLocked(error) bool { return false }
