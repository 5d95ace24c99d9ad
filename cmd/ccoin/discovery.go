package main

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strconv"

	"ccoin/discovery"
	"ccoin/node"
)

// defaultDiscoveryDir sits beside a node's default data directory (~/.ccoin).
const defaultDiscoveryDir = "~/.ccoin-discovery"

func runDiscovery(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("discovery", "[-p 4444] [-h 0.0.0.0] [--datadir D] [--state FILE]")
	port := fs.Int("p", 4444, "port")
	host := fs.String("h", "0.0.0.0", "host to listen on (-h alone, or --help, prints this help)")
	datadir := fs.String("datadir", defaultDiscoveryDir, "data directory; the registry keeps its table in discovery-state.json there")
	statePath := fs.String("state", "", "file where the registry keeps its table across restarts (default <datadir>/discovery-state.json)")
	level := fs.String("log-level", "info", "log level")
	asJSON := fs.Bool("log-json", false, "log as JSON")
	maxPerIP := fs.Int("max-per-ip", discovery.DefaultMaxPerIP, "entries one source address may register (a one-machine network registers every node from 127.0.0.1)")
	trustProxy := fs.Bool("trust-proxy", false, "behind a reverse proxy: take the client address from the last X-Forwarded-For entry")
	anyHost := fs.Bool("any-host", false, "accept registered hosts that are not the registration's source address")
	if err := parse(fs, args); err != nil {
		return err
	}
	path := *statePath
	if path == "" {
		// The node's config resolves "~/" and relative paths the same way.
		dir, err := (&node.Config{}).DataDir(*datadir)
		if err != nil {
			return err
		}
		path = filepath.Join(dir, "discovery-state.json")
	}
	s, err := discovery.NewServer(discovery.ServerConfig{
		Addr:       net.JoinHostPort(*host, strconv.Itoa(*port)),
		StatePath:  path,
		MaxPerIP:   *maxPerIP,
		TrustProxy: *trustProxy,
		AnyHost:    *anyHost,
		Logger:     newLogger("discovery", *level, *asJSON),
	})
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
