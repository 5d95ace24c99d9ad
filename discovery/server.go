package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"ccoin/ccoin/atomicfile"
	"ccoin/ccoin/crypto"
)

// Defaults for ServerConfig.
const (
	DefaultTTL          = 2 * time.Minute
	DefaultMaxEntries   = 10_000
	DefaultMaxPerRange  = 256
	DefaultMaxPerIP     = 8
	DefaultRateLimit    = 20
	DefaultRateBurst    = 40
	DefaultMaxLimiters  = 10_000
	DefaultMaxBody      = 16 << 10
	DefaultMaxClockSkew = 5 * time.Minute
	DefaultSaveInterval = 30 * time.Second

	// DefaultPeersLimit and MaxPeersLimit bound GET /peers?limit=N.
	DefaultPeersLimit = 10
	MaxPeersLimit     = 100
)

// ServerConfig configures a registry. Zero values take the defaults above.
type ServerConfig struct {
	// Addr is the listen address for Run, e.g. "0.0.0.0:4444".
	Addr string
	// StatePath is a JSON file the table is saved to (periodically and on
	// shutdown) and loaded from at start. Empty: nothing is persisted.
	StatePath string
	// TTL is how long an entry lives without a refresh.
	TTL time.Duration
	// MaxEntries bounds the table; new addresses are refused with ErrFull.
	MaxEntries int
	// MaxPerRange bounds entries registered from one source /24 (IPv4) or
	// /48 (IPv6), so one range cannot fill the table. Negative disables.
	MaxPerRange int
	// MaxPerIP bounds entries registered from one source address (IPv6: one
	// /64), so one machine cannot crowd the answers to GET /peers. A loopback
	// devnet registers all its nodes from 127.0.0.1, so it needs at least its
	// node count. Negative disables.
	MaxPerIP int
	// TrustProxy says the registry sits behind a reverse proxy that appends
	// the client's address to X-Forwarded-For: the last entry of that
	// header, not the connection's address, is then the source address for
	// rate limits, caps and the host check. Never set it on a registry that
	// clients reach directly, or they can claim any address.
	TrustProxy bool
	// AnyHost turns off the check that a registration's host is the address
	// it came from (an IP literal equal to it, or a name resolving to it;
	// loopback matches loopback). Off, nobody can point nodes at a third
	// party's address; turn it on only for nodes that reach the registry
	// from another address than the one they advertise.
	AnyHost bool
	// HostCheckTimeout bounds the DNS lookup of a registered host name;
	// default 2 s.
	HostCheckTimeout time.Duration
	// LookupHost resolves a registered host name for the host check;
	// default net.DefaultResolver.LookupNetIP. Tests replace it.
	LookupHost func(ctx context.Context, host string) ([]netip.Addr, error)
	// RateLimit is requests per second per client IP (IPv6: per /64), with
	// RateBurst. Negative RateLimit disables rate limiting.
	RateLimit float64
	RateBurst int
	// RangeRateLimit and RangeRateBurst limit a whole /24 (/48); default ten
	// times the per-IP values.
	RangeRateLimit float64
	RangeRateBurst int
	// MaxLimiters bounds each rate-limiter table.
	MaxLimiters int
	// MaxBody bounds request bodies in bytes.
	MaxBody int64
	// MaxClockSkew is how far a signed timestamp may be from the registry clock.
	MaxClockSkew time.Duration
	// SaveInterval is how often a changed table is saved.
	SaveInterval time.Duration
	Logger       hclog.Logger
	// Metrics, if set, receives ccoin_discovery_* collectors.
	Metrics prometheus.Registerer
	// Clock replaces time.Now in tests.
	Clock func() time.Time
}

func (c *ServerConfig) setDefaults() {
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	if c.MaxPerRange == 0 {
		c.MaxPerRange = DefaultMaxPerRange
	}
	if c.MaxPerIP == 0 {
		c.MaxPerIP = DefaultMaxPerIP
	}
	if c.HostCheckTimeout <= 0 {
		c.HostCheckTimeout = 2 * time.Second
	}
	if c.LookupHost == nil {
		c.LookupHost = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
	if c.RateBurst <= 0 {
		c.RateBurst = max(DefaultRateBurst, int(2*c.RateLimit))
	}
	if c.RangeRateLimit <= 0 {
		c.RangeRateLimit = 10 * c.RateLimit
	}
	if c.RangeRateBurst <= 0 {
		c.RangeRateBurst = 10 * c.RateBurst
	}
	if c.MaxLimiters <= 0 {
		c.MaxLimiters = DefaultMaxLimiters
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.MaxClockSkew <= 0 {
		c.MaxClockSkew = DefaultMaxClockSkew
	}
	if c.SaveInterval <= 0 {
		c.SaveInterval = DefaultSaveInterval
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// Server is the discovery registry.
type Server struct {
	cfg        ServerConfig
	log        hclog.Logger
	now        func() time.Time
	keys       *crypto.KeyCache
	ipLimit    *limiter // nil when rate limiting is off
	rangeLimit *limiter
	handler    http.Handler
	metrics    *metrics

	mu    sync.Mutex
	tab   *table
	dirty bool

	saveMu sync.Mutex

	addrMu sync.Mutex
	addr   string
	ready  chan struct{}
}

// NewServer builds a registry and loads its state file, if any. A state file
// that exists but cannot be parsed is an error wrapping ErrCorruptState.
func NewServer(cfg ServerConfig) (*Server, error) {
	cfg.setDefaults()
	s := &Server{
		cfg:   cfg,
		log:   cfg.Logger,
		now:   cfg.Clock,
		keys:  crypto.NewKeyCache(4096),
		tab:   newTable(cfg.TTL, cfg.MaxClockSkew, cfg.MaxEntries, cfg.MaxPerRange, cfg.MaxPerIP),
		ready: make(chan struct{}),
	}
	if cfg.RateLimit > 0 {
		s.ipLimit = newLimiter(cfg.RateLimit, cfg.RateBurst, cfg.MaxLimiters)
		s.rangeLimit = newLimiter(cfg.RangeRateLimit, cfg.RangeRateBurst, cfg.MaxLimiters)
	}
	if cfg.StatePath != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.StatePath), 0o755); err != nil {
			return nil, fmt.Errorf("discovery state directory: %w", err)
		}
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	m, err := newMetrics(cfg.Metrics, s)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.handler = s.routes()
	return s, nil
}

// load restores unexpired, still valid entries from the state file.
func (s *Server) load() error {
	// A full table is well under 1 KiB per entry.
	sf, err := readState(s.cfg.StatePath, int64(s.cfg.MaxEntries)*4096+1<<20)
	if err != nil {
		return err
	}
	now := s.now()
	kept, dropped := 0, 0
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rec := range sf.Entries {
		seen := time.UnixMilli(rec.Seen)
		if seen.After(now) {
			seen = now // the clock went back; do not let the entry live longer
		}
		// Re-verify: the file is ours, but a bad entry must never be served.
		if len(s.tab.byAddr) >= s.cfg.MaxEntries || now.Sub(seen) > s.cfg.TTL ||
			s.tab.byAddr[rec.Entry.Address] != nil || rec.Entry.verify(OpAdd, s.keys) != nil {
			dropped++
			continue
		}
		s.tab.insert(&record{entry: rec.Entry, seen: seen, rangeKey: rec.Range, ipKey: rec.IP})
		kept++
	}
	s.log.Info("loaded discovery state", "path", s.cfg.StatePath, "entries", kept, "dropped", dropped)
	return nil
}

// save writes the table to StatePath if it changed (or always, if force).
func (s *Server) save(force bool) error {
	if s.cfg.StatePath == "" {
		return nil
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	if !s.dirty && !force {
		s.mu.Unlock()
		return nil
	}
	sf := s.tab.snapshot(s.now())
	s.dirty = false
	s.mu.Unlock()
	data, err := json.Marshal(sf)
	if err == nil {
		err = atomicfile.WriteFile(s.cfg.StatePath, data)
	}
	if err != nil {
		s.mu.Lock()
		s.dirty = true // try again next time
		s.mu.Unlock()
		return err
	}
	return nil
}

// sweep drops expired entries.
func (s *Server) sweep() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.tab.sweep(s.now())
	if n > 0 {
		s.dirty = true
	}
	return n
}

// Handler serves the registry's routes; Run uses it, tests may mount it.
func (s *Server) Handler() http.Handler { return s.handler }

// Addr is the bound listen address once Run has started listening, else "".
func (s *Server) Addr() string {
	s.addrMu.Lock()
	defer s.addrMu.Unlock()
	return s.addr
}

// Ready is closed once Run is listening and Addr is set.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Run listens on cfg.Addr and serves until ctx ends, then shuts down
// gracefully and saves the table.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("discovery listen on %s: %w", s.cfg.Addr, err)
	}
	s.addrMu.Lock()
	s.addr = ln.Addr().String()
	s.addrMu.Unlock()
	close(s.ready)
	s.log.Info("discovery registry listening", "addr", s.Addr())

	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          s.log.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Debug}),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	sweepEvery := max(s.cfg.TTL/4, time.Second)
	sweepT := time.NewTicker(sweepEvery)
	defer sweepT.Stop()
	saveT := time.NewTicker(s.cfg.SaveInterval)
	defer saveT.Stop()

	var serveErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-errc:
			serveErr = fmt.Errorf("discovery serve: %w", err)
			errc = nil
			break loop
		case <-sweepT.C:
			if n := s.sweep(); n > 0 {
				s.log.Debug("expired entries swept", "count", n)
			}
		case <-saveT.C:
			if err := s.save(false); err != nil {
				s.log.Warn("cannot save discovery state", "path", s.cfg.StatePath, "error", err)
			}
		}
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		s.log.Warn("discovery shutdown", "error", err)
		_ = srv.Close()
	}
	if errc != nil {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) && serveErr == nil {
			serveErr = fmt.Errorf("discovery serve: %w", err)
		}
	}
	if err := s.save(true); err != nil {
		s.log.Error("cannot save discovery state", "path", s.cfg.StatePath, "error", err)
		if serveErr == nil {
			serveErr = err
		}
	}
	s.log.Info("discovery registry stopped")
	return serveErr
}

// routes is the whole HTTP surface in one table.
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverer, s.limitRate, s.limitBody)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, fmt.Errorf("%w: no route %s", ErrNotFound, r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, fmt.Errorf("%w: %s %s", ErrMethodNotAllowed, r.Method, r.URL.Path))
	})
	r.Post("/", s.handleCommand)
	r.Get("/healthz", s.handleHealth)
	r.Get("/peers", s.handleGetPeers)
	r.Get("/peers/{address}", s.handleGetPeer)
	r.Put("/peers/{address}", s.handlePutPeer)
	r.Delete("/peers/{address}", s.handleDeletePeer)
	return r
}

// --- middleware ---

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				// A bug, not the client's fault, but the brief is a 4xx
				// and a log line rather than a dead connection.
				s.log.Error("panic in discovery handler", "path", r.URL.Path, "panic", fmt.Sprint(v))
				s.fail(w, r, fmt.Errorf("%w: request could not be handled", ErrBadRequest))
			}
		}()
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (s *Server) limitRate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.ipLimit != nil {
			ipKey, rangeKey := clientKeys(s.remote(r))
			now := s.now()
			if !s.ipLimit.allow(ipKey, now) || !s.rangeLimit.allow(rangeKey, now) {
				w.Header().Set("Retry-After", "1")
				s.fail(w, r, fmt.Errorf("%w: slow down", ErrTooManyRequests))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBody {
			s.fail(w, r, fmt.Errorf("%w: %d bytes, at most %d", ErrBodyTooLarge, r.ContentLength, s.cfg.MaxBody))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		next.ServeHTTP(w, r)
	})
}

// --- helpers ---

// ok writes a success answer.
func (s *Server) ok(w http.ResponseWriter, v any) {
	s.metrics.answer("ok")
	writeJSON(w, http.StatusOK, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	k := kindOf(err)
	var body errorBody
	body.Error.Code = k.code
	body.Error.Message = err.Error()
	s.metrics.answer(k.code)
	s.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "code", k.code, "error", err)
	writeJSON(w, k.status, body)
}

// decode reads exactly one JSON value from the body into v.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data after the JSON value")
			var tooBig *http.MaxBytesError
			if errors.As(terr, &tooBig) {
				err = terr
			}
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooBig):
		return fmt.Errorf("%w: at most %d bytes", ErrBodyTooLarge, tooBig.Limit)
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: empty body", ErrBadJSON)
	default:
		return fmt.Errorf("%w: %v", ErrBadJSON, err)
	}
}

// --- operations shared by both interfaces ---

type okAnswer struct {
	OK         bool  `json:"ok"`
	TTLSeconds int64 `json:"ttl_seconds,omitempty"`
}

type peersAnswer struct {
	Peers []Entry `json:"peers"`
}

func (s *Server) add(r *http.Request, e Entry) error {
	// Cheap checks first: a signature costs far more than the clock window.
	if err := e.Validate(OpAdd); err != nil {
		return err
	}
	if err := s.tab.checkClock(e.Timestamp, s.now()); err != nil {
		return err
	}
	if err := e.verify(OpAdd, s.keys); err != nil {
		return err
	}
	// After the signature, so that only the key's owner can make the
	// registry resolve a name.
	remote := s.remote(r)
	if err := s.checkHost(r.Context(), e.Host, remote); err != nil {
		return err
	}
	ipKey, rangeKey := clientKeys(remote)
	if ipKey == "other" {
		ipKey = "" // not an IP: nothing to count by
	}
	s.mu.Lock()
	isNew, err := s.tab.upsert(e, source{ipKey: ipKey, rangeKey: rangeKey}, s.now())
	if err == nil {
		s.dirty = true
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if isNew {
		s.log.Debug("peer registered", "address", e.Address, "host", e.Host, "port", e.Port, "node-type", e.NodeType, "remote", r.RemoteAddr)
	}
	return nil
}

func (s *Server) remove(r *http.Request, e Entry) error {
	// Cheap checks first: a signature costs far more than the clock window.
	if err := e.Validate(OpRemove); err != nil {
		return err
	}
	if err := s.tab.checkClock(e.Timestamp, s.now()); err != nil {
		return err
	}
	if err := e.verify(OpRemove, s.keys); err != nil {
		return err
	}
	s.mu.Lock()
	err := s.tab.remove(e, s.now())
	if err == nil {
		s.dirty = true
	}
	s.mu.Unlock()
	if err == nil {
		s.log.Debug("peer removed", "address", e.Address, "remote", r.RemoteAddr)
	}
	return err
}

// remote is the client's address: the connection's, or behind a trusted
// proxy the last X-Forwarded-For entry (the one the proxy itself added;
// earlier entries are whatever the client sent).
func (s *Server) remote(r *http.Request) string {
	if s.cfg.TrustProxy {
		if v := r.Header.Values("X-Forwarded-For"); len(v) > 0 {
			last := v[len(v)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				return a.String()
			}
		}
	}
	return r.RemoteAddr
}

// checkHost refuses a registration whose host is not the address it came
// from, so that nobody can point the network's nodes at a third party. The
// host may be an IP literal equal to the source or a name resolving to it
// (a Docker testnet registers its container names); a loopback host from a
// loopback source always matches, so one-machine devnets keep working.
func (s *Server) checkHost(ctx context.Context, host, remote string) error {
	if s.cfg.AnyHost {
		return nil
	}
	h, _, err := net.SplitHostPort(remote)
	if err != nil {
		h = remote
	}
	src, err := netip.ParseAddr(h)
	if err != nil {
		return nil // not an IP (a unix socket, a test transport): nothing to compare
	}
	src = src.Unmap().WithZone("")
	same := func(a netip.Addr) bool {
		a = a.Unmap().WithZone("")
		return a == src || (a.IsLoopback() && src.IsLoopback())
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if same(a) {
			return nil
		}
		return fmt.Errorf("%w: host %s is not the address the registration came from (%s); advertise that address (p2p.advertise_host), or run the registry with --any-host", ErrHostMismatch, host, src)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.HostCheckTimeout)
	defer cancel()
	addrs, err := s.cfg.LookupHost(ctx, host)
	if err != nil {
		return fmt.Errorf("%w: cannot resolve host %.64q: %v", ErrHostMismatch, host, err)
	}
	for _, a := range addrs {
		if same(a) {
			return nil
		}
	}
	return fmt.Errorf("%w: host %.64q does not resolve to the address the registration came from (%s); advertise that address (p2p.advertise_host), or run the registry with --any-host", ErrHostMismatch, host, src)
}

func (s *Server) peers(limit int, f filter) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tab.sample(limit, f, s.now(), rand.IntN)
}

// --- handlers ---

// commandRequest is the prototype's command form: a command name next to the
// entry fields. For get_all, network_id and chain_id act as filters.
type commandRequest struct {
	Command string `json:"command"`
	Limit   *int   `json:"limit,omitempty"`
	Entry
}

func (s *Server) handleCommand(w http.ResponseWriter, r *http.Request) {
	var req commandRequest
	if err := decode(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	switch req.Command {
	case OpAdd:
		if err := s.add(r, req.Entry); err != nil {
			s.fail(w, r, err)
			return
		}
		s.ok(w, okAnswer{OK: true, TTLSeconds: int64(s.cfg.TTL / time.Second)})
	case OpRemove:
		if err := s.remove(r, req.Entry); err != nil {
			s.fail(w, r, err)
			return
		}
		s.ok(w, okAnswer{OK: true})
	case "get_all":
		limit := s.cfg.MaxEntries
		if req.Limit != nil {
			if *req.Limit < 1 {
				s.fail(w, r, fmt.Errorf("%w: limit must be positive", ErrBadRequest))
				return
			}
			limit = min(*req.Limit, limit)
		}
		if !validChainFilter(req.ChainID) {
			s.fail(w, r, fmt.Errorf("%w: chain_id must be 64 lowercase hex characters", ErrBadRequest))
			return
		}
		s.ok(w, peersAnswer{Peers: s.peers(limit, filter{req.NetworkID, req.ChainID})})
	default:
		s.fail(w, r, fmt.Errorf("%w: command must be add, remove or get_all", ErrBadRequest))
	}
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := s.tab.liveCount(s.now())
	s.mu.Unlock()
	s.ok(w, struct {
		OK    bool `json:"ok"`
		Peers int  `json:"peers"`
	}{true, n})
}

func (s *Server) handleGetPeers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := DefaultPeersLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.fail(w, r, fmt.Errorf("%w: limit must be a positive integer", ErrBadRequest))
			return
		}
		limit = min(n, MaxPeersLimit)
	}
	var f filter
	if v := q.Get("network_id"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			s.fail(w, r, fmt.Errorf("%w: network_id must be an unsigned integer", ErrBadRequest))
			return
		}
		f.networkID = n
	}
	f.chainID = q.Get("chain_id")
	if !validChainFilter(f.chainID) {
		s.fail(w, r, fmt.Errorf("%w: chain_id must be 64 lowercase hex characters", ErrBadRequest))
		return
	}
	s.ok(w, peersAnswer{Peers: s.peers(limit, f)})
}

func (s *Server) handleGetPeer(w http.ResponseWriter, r *http.Request) {
	addr := chi.URLParam(r, "address")
	s.mu.Lock()
	rec := s.tab.byAddr[addr]
	var e Entry
	found := rec != nil && s.tab.live(rec, s.now())
	if found {
		e = rec.entry
		e.Signature = ""
	}
	s.mu.Unlock()
	if !found {
		s.fail(w, r, fmt.Errorf("%w: no entry for %.64q", ErrNotFound, addr))
		return
	}
	s.ok(w, e)
}

// entryFromPath decodes the body and checks it names the path's address.
func (s *Server) entryFromPath(r *http.Request) (Entry, error) {
	var e Entry
	if err := decode(r, &e); err != nil {
		return e, err
	}
	if addr := chi.URLParam(r, "address"); addr != e.Address {
		return e, fmt.Errorf("%w: path address %.64q differs from body address %.64q", ErrBadRequest, addr, e.Address)
	}
	return e, nil
}

func (s *Server) handlePutPeer(w http.ResponseWriter, r *http.Request) {
	e, err := s.entryFromPath(r)
	if err == nil {
		err = s.add(r, e)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.ok(w, okAnswer{OK: true, TTLSeconds: int64(s.cfg.TTL / time.Second)})
}

func (s *Server) handleDeletePeer(w http.ResponseWriter, r *http.Request) {
	e, err := s.entryFromPath(r)
	if err == nil {
		err = s.remove(r, e)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.ok(w, okAnswer{OK: true})
}
