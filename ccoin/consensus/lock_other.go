//go:build !unix

package consensus

import "os"

// Other systems get no cross-process lock and no directory fsync; ccoin
// validators are expected to run on Unix.
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}

func unlockFile(f *os.File) error { return f.Close() }

func syncDir(string) error { return nil }
