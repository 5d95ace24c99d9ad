package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"ccoin/devnet"
)

func runDevnet(ctx context.Context, args []string, out io.Writer) error {
	f := newFlags("devnet", "[--dir D] [--validators 3] [--basic 1] [--interval 1] [--base-port 7100]")
	dir := f.String("dir", ".devnet", "directory holding the devnet (reused when it exists)")
	validators := f.Int("validators", 3, "number of validators")
	basic := f.Int("basic", 1, "number of basic nodes")
	interval := f.Float64("interval", 1, "slot interval in seconds")
	basePort := f.Int("base-port", 7100, "registry port; node i uses base+10*i (P2P) and base+10*i+1 (HTTP)")
	difficulty := f.Uint64("difficulty", 2, "HashCash difficulty in hex digits")
	maxBlockBytes := f.Uint64("max-block-bytes", devnet.DefaultMaxBlockBytes, "genesis max_block_bytes: largest encoded block in bytes (16 KiB to 16 MiB - 64 KiB)")
	initOnly := f.Bool("init-only", false, "write the devnet and exit without running it")
	hostTemplate := f.String("hosts", "", "lay out for containers: host name template such as node%d (implies --init-only)")
	level := f.String("log-level", "info", "node log level (logs go to <dir>/nodeN/node.log)")
	pprofAddr := f.String("pprof", "", "serve Go's profiler for the devnet process, all nodes together (loopback only, e.g. 127.0.0.1:6060)")
	if err := parse(f, args); err != nil {
		return err
	}
	if *pprofAddr != "" && !*initOnly && *hostTemplate == "" {
		if _, err := servePprof(ctx, *pprofAddr, newLogger("devnet", "info", false).Named("pprof")); err != nil {
			return err
		}
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	m, err := devnet.Load(abs)
	switch {
	case err == nil:
		fmt.Fprintf(out, "reusing the devnet in %s\n", abs)
	case errors.Is(err, fs.ErrNotExist):
		m, err = devnet.Init(devnet.Options{Dir: abs, Validators: *validators, Basic: *basic, Interval: *interval,
			BasePort: *basePort, HostTemplate: *hostTemplate, Difficulty: *difficulty, MaxBlockBytes: *maxBlockBytes})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "created a devnet of %s and %s in %s\n", plural(*validators, "validator"), plural(*basic, "basic node"), abs)
	default:
		return err
	}
	fmt.Fprintf(out, "chain id %s\nfaucet account %s (key under %s)\n", m.ChainID, m.Faucet, m.FaucetDir)
	if *initOnly || *hostTemplate != "" {
		return nil
	}
	setMemoryLimit(len(m.Nodes))
	return devnet.Run(ctx, m, *level, func() {
		fmt.Fprintf(out, "registry http://%s:%d\n", m.DiscoveryHost, m.DiscoveryPort)
		for _, n := range m.Nodes {
			fmt.Fprintf(out, "%-6s %-9s %s  address %s  token %s\n", n.Name, n.Type, n.URL(), n.Address, n.Token)
		}
		fmt.Fprintf(out, "explorer: open %s/ in a browser; logs in %s/nodeN/node.log; Ctrl-C stops everything\n", m.Nodes[0].URL(), abs)
	})
}

// plural is "1 basic node", "3 validators".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
