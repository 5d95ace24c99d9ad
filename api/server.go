package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"ccoin/ccoin/crypto"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for Config fields left zero.
const (
	DefaultMaxBody        = 1 << 20
	MaxBatchBody          = 8 << 20 // POST /txs
	MaxBatchTxs           = 10_000
	DefaultRequestTimeout = 15 * time.Second
	DefaultKeepAlive      = 15 * time.Second

	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second // whole request including the body
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	sseWriteTimeout   = 10 * time.Second // a stream client that cannot take an event this fast is dropped
	shutdownTimeout   = 5 * time.Second
)

// Config configures the API server.
type Config struct {
	Addr        string         // listen address, decided by the caller (default 127.0.0.1:<p2p+1>); empty = Handler only, no listener
	NodeAddress crypto.Address // the node's account; the prototype routes live under /{NodeAddress}/
	Token       string         // bearer token for POST /{addr}/txn/; empty disables that route (every call is 401)
	MaxBody     int64          // default 1 MiB; POST /txs allows up to MaxBatchBody

	Gatherer   prometheus.Gatherer   // served at /metrics; nil = the Registerer if it gathers, else a private registry
	Registerer prometheus.Registerer // gets the HTTP latency histogram; nil = a private registry

	Web    http.Handler // optional web explorer, answering GET/HEAD requests no API route matches (/ and static files)
	Logger hclog.Logger

	RequestTimeout time.Duration // per request, except /events; default 15 s
	KeepAlive      time.Duration // /events comment interval; default 15 s

	// Limits on what clients can make the node do; zero takes the Default
	// of the same name (limits.go).
	MaxSubmits      int     // concurrent POST /txs; more get 503 with Retry-After
	VerifyRate      float64 // signature checks per second one client IP may cause; beyond, 429 with Retry-After
	VerifyBurst     int     // ... and at once; at least MaxBatchTxs for any batch to pass
	LimitLoopback   bool    // apply VerifyRate to loopback clients too (by default the node's own machine, e.g. ccoin bench, is not limited)
	MaxStreamsPerIP int     // open /events streams per client IP; more get 429
	MaxConns        int     // open connections to Addr; more wait to be accepted

	Now func() time.Time // the rate limits' clock; default time.Now

	// Keys parses the keys of submitted transactions and remembers the
	// signatures it verified; a node passes the cache its pool and chain
	// share, so a transaction is verified once per node. Nil: a private one.
	Keys *crypto.KeyCache
}

// Server serves the API.
type Server struct {
	cfg     Config
	log     hclog.Logger
	ln      net.Listener
	handler http.Handler
	latency *prometheus.HistogramVec
	gather  prometheus.Gatherer

	// The handlers by role, each holding only its part of the node (Deps).
	read   *readRoutes
	submit *submitRoutes
	stream *streamRoutes

	stopOnce sync.Once
	stopping chan struct{} // closed when shutdown begins, so event streams end
	runOnce  sync.Once
}

// base is what every handler group shares: the configuration, the logger
// for failures that are not the client's doing, and the node's address
// for the prototype's routes.
type base struct {
	cfg  *Config
	log  hclog.Logger
	node string // lowercase hex
}

// readRoutes serve every GET route but /events (handlers.go, proto.go,
// finality.go, proof.go, account_txs.go).
type readRoutes struct {
	base
	read       Reader
	accountTxs AccountTxsReader // nil: no index by address
}

// submitRoutes serve POST /txs (submit.go) and POST /{node}/txn/
// (proto.go), with what bounds what clients make the node spend.
type submitRoutes struct {
	base
	sub    Submitter
	status interface{ Status() Status } // the chain id, read once

	keys    *crypto.KeyCache // parsed public keys of submitted transactions
	submits chan struct{}    // one slot per POST /txs in progress
	verify  *budget          // signature checks per client

	chainOnce sync.Once
	chain     string
}

// streamRoutes serve GET /events (events.go).
type streamRoutes struct {
	base
	st       Stream
	blocks   blockStanding   // to render an event's block
	streams  *counter        // /events streams per client
	stopping <-chan struct{} // the server's: closed when shutdown begins
}

// New builds the server on the node's parts and, when cfg.Addr is set, binds
// its listener at once so that Addr is known before Run (port 0 picks a free
// port). Reader, Submitter and Stream are required.
func New(cfg Config, d Deps) (*Server, error) {
	switch {
	case d.Reader == nil:
		return nil, errors.New("api: nil Deps.Reader")
	case d.Submitter == nil:
		return nil, errors.New("api: nil Deps.Submitter")
	case d.Stream == nil:
		return nil, errors.New("api: nil Deps.Stream")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = DefaultKeepAlive
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	setDefault(&cfg.MaxSubmits, DefaultMaxSubmits)
	setDefault(&cfg.VerifyRate, DefaultVerifyRate)
	setDefault(&cfg.VerifyBurst, DefaultVerifyBurst)
	setDefault(&cfg.MaxStreamsPerIP, DefaultMaxStreamsPerIP)
	setDefault(&cfg.MaxConns, DefaultMaxConns)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Keys == nil {
		cfg.Keys = crypto.NewKeyCache(4096)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, stopping: make(chan struct{})}
	b := base{cfg: &s.cfg, log: s.log, node: cfg.NodeAddress.String()}
	s.read = &readRoutes{base: b, read: d.Reader, accountTxs: d.AccountTxs}
	s.submit = &submitRoutes{base: b, sub: d.Submitter, status: d.Reader,
		keys:    cfg.Keys,
		submits: make(chan struct{}, cfg.MaxSubmits),
		verify:  newBudget(cfg.VerifyRate, cfg.VerifyBurst, cfg.Now),
	}
	s.stream = &streamRoutes{base: b, st: d.Stream, blocks: d.Reader,
		streams: newCounter(cfg.MaxStreamsPerIP), stopping: s.stopping}
	if err := s.initMetrics(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	if cfg.Addr != "" {
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("api: listen %s: %w", cfg.Addr, err)
		}
		s.ln = ln
	}
	return s, nil
}

func (s *Server) initMetrics() error {
	reg := s.cfg.Registerer
	gather := s.cfg.Gatherer
	if reg == nil {
		r := prometheus.NewRegistry()
		reg = r
		if gather == nil {
			gather = r
		}
	}
	if gather == nil {
		if g, ok := reg.(prometheus.Gatherer); ok {
			gather = g
		} else {
			gather = prometheus.NewRegistry()
		}
	}
	s.gather = gather
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "ccoin",
		Subsystem: "http",
		Name:      "request_duration_seconds",
		Help:      "HTTP API request latency by route pattern, method and status code.",
		Buckets:   []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15},
	}, []string{"route", "method", "code"})
	if err := reg.Register(h); err != nil {
		// A second server on the same registry (tests, restarts) shares the histogram.
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return fmt.Errorf("api: register metrics: %w", err)
		}
		existing, ok := are.ExistingCollector.(*prometheus.HistogramVec)
		if !ok {
			return fmt.Errorf("api: register metrics: %w", err)
		}
		h = existing
	}
	s.latency = h
	return nil
}

// Handler is the whole API as an http.Handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Addr is the bound listen address, or "" when New was given no Addr.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Run serves until ctx ends, then shuts down gracefully: open event streams
// are ended and in-flight requests get a few seconds to finish.
func (s *Server) Run(ctx context.Context) error {
	if s.ln == nil {
		return errors.New("api: no listen address configured")
	}
	first := false
	s.runOnce.Do(func() { first = true })
	if !first {
		return errors.New("api: Run called twice")
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      s.cfg.RequestTimeout + 10*time.Second, // /events lifts it for itself
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          s.log.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Debug}),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	srv.RegisterOnShutdown(s.stop)
	port := 0
	if ta, ok := s.ln.Addr().(*net.TCPAddr); ok {
		port = ta.Port
	}
	s.log.Info("HTTP API ENDPOINT Started got up and listening on port: " + strconv.Itoa(port))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(newLimitListener(s.ln, s.cfg.MaxConns)) }()
	select {
	case err := <-errc:
		s.stop()
		return fmt.Errorf("api: serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("http api stopping")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		err = srv.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

func setDefault[T int | float64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

func (s *Server) stop() { s.stopOnce.Do(func() { close(s.stopping) }) }
