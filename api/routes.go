package api

import (
	"net/http"
	"strings"

	"ccoin"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is the whole API in one table. Each handler group gets only its
// part of the node (Deps): reads, submissions, the event stream.
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.instrument)
	r.NotFound(s.notFound)
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "%s is not allowed on %s", r.Method, truncate(r.URL.Path, 200)))
	})

	// Event streams live as long as the client; everything else is timed.
	r.Get("/events", s.stream.events)

	r.Group(func(r chi.Router) {
		r.Use(s.timeout)

		r.Get("/healthz", healthz)
		r.Get("/readyz", s.read.readyz)
		r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(s.gather, promhttp.HandlerOpts{
			ErrorLog: s.log.StandardLogger(nil),
		}))
		r.Get("/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/yaml")
			_, _ = w.Write(ccoin.OpenAPI)
		})

		r.Get("/status", s.read.status)
		r.Get("/genesis", s.read.genesis)
		r.Get("/blocks", s.read.blocks)
		r.Get("/blocks/latest", s.read.blockLatest)
		r.Get("/blocks/finalized", s.read.blockFinalized)
		r.Get("/blocks/{ref}", s.read.block)
		r.Get("/blocks/{ref}/txids", s.read.blockTxIDs)
		r.Get("/txs/{id}", s.read.tx)
		r.Post("/txs", s.submit.submitTxs)
		r.Get("/accounts/{address}", s.read.account)
		r.Get("/accounts/{address}/txs", s.read.accountTxsRoute)
		r.Get("/pool", s.read.pool)
		r.Get("/peers", s.read.peers)
		r.Get("/evidence", s.read.evidence)
		r.Get("/finality", s.read.finality)
		r.Get("/validators", s.read.validators)

		// The prototype's routes, under the node's own address.
		r.Post("/{node}/txn/", s.submit.protoSend)
		r.Post("/{node}/txn/{id}/", s.read.protoTx)
		r.Get("/{node}/blk/cnt/", s.read.protoCount)
		r.Get("/{node}/blk/{n}/", s.read.protoBlock)
	})
	return r
}

// notFound answers unknown routes with the JSON error openapi.yaml
// describes, except that GET/HEAD of the explorer's own paths go to the web
// explorer: a client that mistypes an API path gets an error it can parse,
// not the explorer's plain-text 404.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Web != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) && explorerPath(r.URL.Path) {
		s.cfg.Web.ServeHTTP(w, r)
		return
	}
	writeError(w, errorf(http.StatusNotFound, CodeNotFound, "no route %s %s", r.Method, truncate(r.URL.Path, 200)))
}

// explorerPath reports whether p is one the web explorer serves: the page at
// "/" or "/index.html" and its assets under "/static/" (see package web).
func explorerPath(p string) bool {
	return p == "/" || p == "/index.html" || strings.HasPrefix(p, "/static/")
}
