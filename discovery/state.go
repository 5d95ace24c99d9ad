package discovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

const stateVersion = 1

// stateFile is the JSON the table is saved as.
type stateFile struct {
	Version int           `json:"version"`
	SavedAt int64         `json:"saved_at"` // unix ms, informational
	Entries []stateRecord `json:"entries"`
}

type stateRecord struct {
	Entry Entry  `json:"entry"`
	Seen  int64  `json:"seen"` // unix ms of the last refresh, registry clock
	Range string `json:"range"`
	IP    string `json:"ip,omitempty"` // absent in files from before the per-address cap
}

// snapshot copies the table for saving.
func (t *table) snapshot(now time.Time) stateFile {
	sf := stateFile{Version: stateVersion, SavedAt: now.UnixMilli(), Entries: make([]stateRecord, 0, len(t.order))}
	for _, r := range t.order {
		if t.live(r, now) {
			sf.Entries = append(sf.Entries, stateRecord{Entry: r.entry, Seen: r.seen.UnixMilli(), Range: r.rangeKey, IP: r.ipKey})
		}
	}
	return sf
}

// readState loads the state file; a missing file is an empty state.
func readState(path string, maxBytes int64) (*stateFile, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &stateFile{Version: stateVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Size() > maxBytes {
		return nil, fmt.Errorf("%w: %s is %d bytes, more than %d", ErrCorruptState, path, st.Size(), maxBytes)
	}
	var sf stateFile
	dec := json.NewDecoder(f)
	if err := dec.Decode(&sf); err != nil {
		return nil, fmt.Errorf("%w: %s: %v (move it aside to start empty)", ErrCorruptState, path, err)
	}
	if sf.Version != stateVersion {
		return nil, fmt.Errorf("%w: %s has version %d, want %d", ErrCorruptState, path, sf.Version, stateVersion)
	}
	return &sf, nil
}
