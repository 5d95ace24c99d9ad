package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"ccoin/bench"
	"ccoin/ccoin/crypto"
	"ccoin/devnet"
)

func runBench(ctx context.Context, args []string, out io.Writer) error {
	f := newFlags("bench", "--nodes URL,URL,... [--dir .devnet | --key FILE] [--accounts 200] [--txs 100000] [--workload FILE] [--rate R|max] [--duration 60s] [--batch 500] [--json FILE]")
	nodes := f.String("nodes", "", "comma-separated node API URLs (default: every node of the devnet in --dir)")
	dir := f.String("dir", ".devnet", "devnet directory whose faucet pays for the senders")
	keyFile := f.String("key", "", "funded PKCS#8 PEM key file (instead of the devnet faucet)")
	passFile := f.String("password-file", "", "passphrase file of an encrypted --key")
	accounts := f.Int("accounts", 200, "sender accounts to create and fund")
	txs := f.Int("txs", 100000, "transfers to pre-sign and send")
	workload := f.String("workload", "", "keep sender keys and signed transfers in this file and reuse them in later runs on the same chain")
	rateFlag := f.String("rate", "max", "transfers per second, or max")
	duration := f.Duration("duration", 60*time.Second, "stop submitting after this long")
	batchSize := f.Int("batch", 500, "transfers per POST /txs")
	submitters := f.Int("submitters", 4, "concurrent submitters per node")
	networkNodes := f.Int("network-nodes", 0, "nodes verifying every transaction on this machine, for the ceiling (default: the devnet's node count, else the number of --nodes)")
	calibration := f.Duration("calibration", time.Second, "how long to measure the verify rate")
	progress := f.Duration("progress", 5*time.Second, "progress line period")
	jsonFile := f.String("json", "", "also write the report as JSON to this file")
	level := f.String("log-level", "warn", "log level (trace, debug, info, warn, error)")
	if err := parse(f, args); err != nil {
		return err
	}
	cfg := bench.Config{Accounts: *accounts, Txs: *txs, Workload: *workload, Duration: *duration, Batch: *batchSize, Submitters: *submitters,
		NetworkNodes: *networkNodes, Calibration: *calibration, Progress: *progress, Out: out,
		Logger: newLogger("bench", *level, false)}
	if *rateFlag != "max" {
		r, err := strconv.ParseFloat(*rateFlag, 64)
		if err != nil || r <= 0 {
			return fmt.Errorf("--rate: want a positive number or max, got %q", *rateFlag)
		}
		cfg.Rate = r
	}
	for _, u := range strings.Split(*nodes, ",") {
		if u = strings.TrimSpace(u); u != "" {
			cfg.Nodes = append(cfg.Nodes, u)
		}
	}

	var m *devnet.Manifest
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	m, err = devnet.Load(abs)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		m = nil
	default:
		return err
	}
	if *keyFile != "" {
		pass, err := crypto.ReadPassphraseFile(*passFile)
		if err != nil {
			return err
		}
		if cfg.Faucet, err = crypto.LoadKeyFile(*keyFile, nil, pass); err != nil {
			return err
		}
	} else {
		if m == nil {
			return fmt.Errorf("no devnet manifest in %s and no --key", abs)
		}
		addr, err := crypto.ParseAddress(m.Faucet)
		if err != nil {
			return fmt.Errorf("devnet faucet: %w", err)
		}
		if cfg.Faucet, err = crypto.LoadKey(m.FaucetDir, addr, nil); err != nil {
			return err
		}
	}
	if len(cfg.Nodes) == 0 {
		if m == nil {
			return fmt.Errorf("no --nodes and no devnet manifest in %s", abs)
		}
		for _, n := range m.Nodes {
			cfg.Nodes = append(cfg.Nodes, n.URL())
		}
	}
	if cfg.NetworkNodes == 0 && m != nil {
		cfg.NetworkNodes = len(m.Nodes)
	}

	rep, runErr := bench.Run(ctx, cfg)
	if rep == nil {
		return runErr
	}
	fmt.Fprintln(out, "--- report ---")
	rep.WriteText(out)
	if *jsonFile != "" {
		data, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonFile, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return runErr
}
