package main

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strconv"

	"ccoin/discovery"
)

func runDiscovery(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("discovery", "[-p 4444] [-h 0.0.0.0] [--state FILE]")
	port := fs.Int("p", 4444, "port")
	host := fs.String("h", "0.0.0.0", "host to listen on")
	statePath := fs.String("state", filepath.Join(".", "discovery-state.json"), "file where the registry keeps its table across restarts")
	level := fs.String("log-level", "info", "log level")
	asJSON := fs.Bool("log-json", false, "log as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	s, err := discovery.NewServer(discovery.ServerConfig{
		Addr:      net.JoinHostPort(*host, strconv.Itoa(*port)),
		StatePath: *statePath,
		Logger:    newLogger("discovery", *level, *asJSON),
	})
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
