package main

import (
	"context"
	"io"
	"strings"

	"ccoin/node"
	"ccoin/web"
)

func runCnode(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("cnode", "-c ccoin.json -t validator|basic [-p PORT] [--datadir D] [--sync full|snapshot]")
	cfgPath := fs.String("c", "", "node config (ccoin.json)")
	typ := fs.String("t", node.TypeBasic, "node type: validator or basic")
	port := fs.Int("p", -1, "P2P port (0 picks a free one; default from the config); the HTTP API uses PORT+1 unless configured")
	httpPort := fs.Int("http-port", -1, "HTTP API port (default P2P port + 1, or http.port from the config)")
	datadir := fs.String("datadir", "", "data directory (overrides app.base_path)")
	pwFile := fs.String("password-file", "", "passphrase file for an encrypted account key")
	level := fs.String("log-level", "", "log level (trace, debug, info, warn, error); default from the config or info")
	asJSON := fs.Bool("log-json", false, "log as JSON")
	syncMode := fs.String("sync", node.SyncFull, "how a new node catches up: full (replay every block) or snapshot (fetch the latest finalized state from peers, then sync blocks)")
	pprofAddr := fs.String("pprof", "", "serve Go's profiler at http://ADDR/debug/pprof/ (loopback only, e.g. 127.0.0.1:6060; off by default)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, dir, err := loadConfig(*cfgPath, *datadir)
	if err != nil {
		return err
	}
	setMemoryLimit(1)
	if *level == "" {
		*level = cfg.Log.Level
	}
	log := newLogger("ccoin", strings.ToLower(*level), *asJSON || cfg.Log.JSON)
	if *pprofAddr != "" {
		if _, err := servePprof(ctx, *pprofAddr, log.Named("pprof")); err != nil {
			return err
		}
	}
	key, err := loadAccount(cfg, dir, *pwFile)
	if err != nil {
		return err
	}
	n, err := node.New(node.Options{Config: cfg, DataDir: dir, Type: *typ, P2PPort: *port, HTTPPort: *httpPort,
		Key: key, Logger: log, Web: web.Handler(), SyncMode: *syncMode})
	if err != nil {
		return err
	}
	return n.Run(ctx)
}
