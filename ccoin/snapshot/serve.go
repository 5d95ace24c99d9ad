package snapshot

import (
	"bufio"
	"context"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/clock"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

const (
	// DefaultServeEvery is how often at most a Server rebuilds its
	// snapshot when ServerConfig.Every is unset (each build walks the
	// whole state).
	DefaultServeEvery = time.Minute
	// MaxServed is how many snapshots a Server keeps: the newest plus the
	// one before, so a peer still fetching the older one is not cut off by
	// a rebuild.
	MaxServed = 2
)

// Certifier is the finality gadget as a Server sees it: the newest
// finality certificate, which must be of the chain's final block for a
// snapshot to be built (see FinalCert).
type Certifier interface {
	Certificate() *types.Certificate
}

// ServerConfig is what a Server builds from and how.
type ServerConfig struct {
	Chain   Chain
	Certs   Certifier
	Genesis *genesis.Genesis
	// Dir holds the chunk files; it is a cache that Run empties when it
	// starts and removes when it ends.
	Dir string
	// ChunkAccounts is the accounts per chunk (DefaultChunkAccounts when
	// zero).
	ChunkAccounts int
	// Every is the least time between two builds (DefaultServeEvery when
	// zero or negative).
	Every time.Duration
	// Linger is how long the file of a snapshot that was replaced stays
	// open for a peer still reading a chunk from it (about one chunk
	// request's timeout).
	Linger time.Duration
	Logger hclog.Logger
	// Clock times rebuilds and lingering files (clock.Real when nil).
	Clock clock.Clock
}

// served is a snapshot a Server offers: its manifest and its chunks,
// written once to a file when it is built. Cutting each chunk again from
// the state tree on request would cost a database read per tree node,
// which made a million-account snapshot slower to serve than to import;
// the file costs about 40 bytes per account on disk and 8 bytes per chunk
// in memory.
type served struct {
	m    *Manifest
	enc  []byte
	file *os.File
	offs []int64 // chunk i is file[offs[i]:offs[i+1]]
}

// Server builds a snapshot of the chain's final block lazily (when a peer
// first asks, and again at most every Every once the final block moved) on
// the goroutine of Run, and serves its manifest and chunks to peers.
type Server struct {
	cfg   ServerConfig
	log   hclog.Logger
	clock clock.Clock
	kick  chan struct{}

	mu    sync.Mutex
	snaps []*served // oldest first
	last  time.Time // start of the last build
}

// NewServer returns a Server; nothing is built before Run.
func NewServer(cfg ServerConfig) *Server {
	if cfg.Every <= 0 {
		cfg.Every = DefaultServeEvery
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Server{cfg: cfg, log: log, clock: clock.Or(cfg.Clock), kick: make(chan struct{}, 1)}
}

// Manifest returns the newest snapshot's encoded manifest (nil while none
// is built) and asks Run for a rebuild when it is missing or stale.
func (s *Server) Manifest() []byte {
	final, _ := s.cfg.Chain.Finalized()
	s.mu.Lock()
	var cur *served
	if len(s.snaps) > 0 {
		cur = s.snaps[len(s.snaps)-1]
	}
	stale := cur == nil || (cur.m.Number < final.Number && s.clock.Now().Sub(s.last) >= s.cfg.Every)
	s.mu.Unlock()
	if stale && final.Number >= 2 {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	if cur == nil {
		return nil
	}
	return cur.enc
}

// Chunk reads chunk index of the served snapshot at height, nil if there
// is none, and checks it against the manifest before it leaves the node,
// so local disk damage makes it answer nothing rather than get it banned.
func (s *Server) Chunk(height, index uint64) ([]byte, error) {
	s.mu.Lock()
	var sn *served
	for _, x := range s.snaps {
		if x.m.Number == height {
			sn = x
		}
	}
	s.mu.Unlock()
	if sn == nil || index >= uint64(len(sn.m.Chunks)) {
		return nil, nil
	}
	enc := make([]byte, sn.offs[index+1]-sn.offs[index])
	if _, err := sn.file.ReadAt(enc, sn.offs[index]); err != nil {
		s.log.Warn("read snapshot chunk", "height", height, "index", index, "error", err)
		return nil, nil
	}
	if ChunkHash(enc) != sn.m.Chunks[index] {
		s.log.Error("served snapshot chunk does not match its manifest", "height", height, "index", index)
		return nil, nil
	}
	return enc, nil
}

// Run builds snapshots when asked until ctx ends, then closes and removes
// their files; it returns once every replaced file is closed too.
func (s *Server) Run(ctx context.Context) error {
	if err := os.RemoveAll(s.cfg.Dir); err != nil {
		return err
	}
	var lingering sync.WaitGroup
	defer func() {
		s.mu.Lock()
		for _, sn := range s.snaps {
			sn.file.Close()
		}
		s.snaps = nil
		os.RemoveAll(s.cfg.Dir)
		s.mu.Unlock()
		lingering.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		}
		s.mu.Lock()
		if len(s.snaps) > 0 && s.clock.Now().Sub(s.last) < s.cfg.Every {
			s.mu.Unlock()
			continue
		}
		s.last = s.clock.Now()
		s.mu.Unlock()
		for _, e := range s.build(ctx) {
			// The file is gone from the directory at once; it is closed
			// once a peer still reading from it has had time to finish
			// its request, or when the server stops.
			os.Remove(e.file.Name())
			lingering.Go(func() {
				clock.Sleep(ctx, s.clock, s.cfg.Linger)
				e.file.Close()
			})
		}
	}
}

// build writes a new snapshot and makes it the newest served one; it
// returns the snapshots that were dropped.
func (s *Server) build(ctx context.Context) (evicted []*served) {
	start := s.clock.Now()
	sn, err := s.write(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("cannot build a snapshot to serve", "error", err)
		}
		return nil
	}
	m := sn.m
	s.mu.Lock()
	if n := len(s.snaps); n > 0 && s.snaps[n-1].m.Number == m.Number {
		evicted = append(evicted, s.snaps[n-1])
		s.snaps[n-1] = sn
	} else {
		s.snaps = append(s.snaps, sn)
	}
	if n := len(s.snaps) - MaxServed; n > 0 {
		evicted = append(evicted, s.snaps[:n]...)
		s.snaps = slices.Delete(s.snaps, 0, n)
	}
	s.mu.Unlock()
	s.log.Info("snapshot ready to serve", "height", m.Number, "accounts", m.Accounts, "chunks", len(m.Chunks),
		"took", s.clock.Now().Sub(start).Round(time.Millisecond))
	return evicted
}

// write walks the final state into a new chunk file.
func (s *Server) write(ctx context.Context) (*served, error) {
	if err := os.MkdirAll(s.cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.cfg.Dir, "*.chunks")
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	offs := []int64{0}
	m, err := Build(s.cfg.Chain, s.cfg.Genesis, s.cfg.Certs.Certificate(), Options{ChunkAccounts: s.cfg.ChunkAccounts},
		func(_ int, _ crypto.Address, enc []byte) error {
			if _, err := w.Write(enc); err != nil {
				return err
			}
			offs = append(offs, offs[len(offs)-1]+int64(len(enc)))
			return ctx.Err()
		})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &served{m: m, enc: m.Encode(), file: f, offs: offs}, nil
}
