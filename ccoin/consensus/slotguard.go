package consensus

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// ErrGuardCorrupt means the slot guard file exists but cannot be trusted.
// The node must refuse to start: guessing 0 could sign a slot twice.
var ErrGuardCorrupt = errors.New("slot guard file is corrupt")

const guardMagic = "ccoin-slot-guard v1"

// SlotGuard durably records the highest slot this validator signed so that
// it never signs two blocks for one slot, even across kill -9 and restart.
//
// The file holds one line, "ccoin-slot-guard v1 <slot> <crc32>", replaced
// atomically (temp file, fsync, rename, fsync of the directory) before Claim
// returns. A missing file means nothing was signed yet; anything else that
// does not parse is refused. A lock file keeps a second process on the same
// data directory from sharing the guard.
type SlotGuard struct {
	mu   sync.Mutex
	path string
	last uint64
	lock *os.File
}

// OpenSlotGuard opens (or starts) the guard at path.
func OpenSlotGuard(path string) (*SlotGuard, error) {
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, fmt.Errorf("slot guard %s: %w", path, err)
	}
	g := &SlotGuard{path: path, lock: lock}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Nothing signed yet. A leftover temp file is an unfinished write
		// whose Claim never returned, so it signed nothing.
		_ = os.Remove(path + ".tmp")
	case err != nil:
		_ = unlockFile(lock)
		return nil, fmt.Errorf("slot guard %s: %w", path, err)
	default:
		if g.last, err = parseGuard(data); err != nil {
			_ = unlockFile(lock)
			return nil, fmt.Errorf("slot guard %s: %w (refusing to start; restore it or, only if this key never signed "+
				"past the current slot, remove it)", path, err)
		}
	}
	return g, nil
}

func formatGuard(slot uint64) []byte {
	body := guardMagic + " " + strconv.FormatUint(slot, 10)
	return fmt.Appendf(nil, "%s %08x\n", body, crc32.ChecksumIEEE([]byte(body)))
}

func parseGuard(data []byte) (uint64, error) {
	s, ok := strings.CutSuffix(string(data), "\n")
	if !ok || len(s) > 64 {
		return 0, fmt.Errorf("%w: not one line", ErrGuardCorrupt)
	}
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return 0, fmt.Errorf("%w: no checksum", ErrGuardCorrupt)
	}
	body, sum := s[:i], s[i+1:]
	want, err := strconv.ParseUint(sum, 16, 32)
	if err != nil || len(sum) != 8 || uint32(want) != crc32.ChecksumIEEE([]byte(body)) {
		return 0, fmt.Errorf("%w: checksum mismatch", ErrGuardCorrupt)
	}
	num, ok := strings.CutPrefix(body, guardMagic+" ")
	if !ok {
		return 0, fmt.Errorf("%w: unknown format", ErrGuardCorrupt)
	}
	slot, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrGuardCorrupt, err)
	}
	return slot, nil
}

// Last is the highest slot claimed, 0 when none.
func (g *SlotGuard) Last() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.last
}

// Claim records slot as signed. It fails with ErrAlreadySigned when slot is
// not above every slot claimed before, and returns only after the record is
// on disk, so the caller may then sign.
func (g *SlotGuard) Claim(slot uint64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.lock == nil {
		return fmt.Errorf("slot guard %s: closed", g.path)
	}
	if slot <= g.last {
		return fmt.Errorf("%w: slot %d, last signed %d", ErrAlreadySigned, slot, g.last)
	}
	renamed, err := writeDurable(g.path, formatGuard(slot))
	if renamed {
		// The file may already say slot even if the directory sync failed;
		// never claim it again.
		g.last = slot
	}
	if err != nil {
		return fmt.Errorf("slot guard %s: %w", g.path, err)
	}
	return nil
}

// Close releases the guard's lock; Claim fails afterwards.
func (g *SlotGuard) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.lock == nil {
		return nil
	}
	err := unlockFile(g.lock)
	g.lock = nil
	return err
}

// writeDurable replaces path with data; renamed reports whether the new
// content may be visible at path.
func writeDurable(path string, data []byte) (renamed bool, err error) {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return false, err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, err
	}
	return true, syncDir(filepath.Dir(path))
}
