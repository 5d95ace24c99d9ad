package chain

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// A second open of a data directory in use names the directory and the
// holder's pid, instead of LevelDB's "resource temporarily unavailable".
func TestOpenDBInUse(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("LevelDB's lock error is reported as it is outside Unix")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "chaindata")
	db, err := OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenDB(path)
	want := fmt.Sprintf("data directory %s is in use by another ccoin process (pid %d)", dir, os.Getpid())
	if !errors.Is(err, ErrInUse) || err.Error() != want {
		t.Fatalf("second open: %v\nwant: %s", err, want)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = OpenDB(path)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	db.Close()
}
