//go:build unix

package leveldb

import (
	"errors"
	"syscall"
)

// isLocked reports LevelDB's failure to take its LOCK file (flock) because
// another open database holds it.
func isLocked(err error) bool {
	return errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EAGAIN)
}
