package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/genesis"
	"ccoin/node"
)

func runInitc(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("initc", "--genesis genesis.json [-c ccoin.json] [--datadir D]")
	genPath := fs.String("genesis", "genesis.json", "genesis file")
	cfgPath := fs.String("c", "", "node config (ccoin.json)")
	datadir := fs.String("datadir", "", "data directory (overrides the config)")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, dir, err := loadConfig(*cfgPath, *datadir)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(*genPath)
	if err != nil {
		return fmt.Errorf("read genesis: %w", err)
	}
	g, err := genesis.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", *genPath, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	db, err := chain.OpenDB(node.ChainDir(dir))
	if err != nil {
		return err
	}
	defer db.Close()
	created, err := chain.Init(db, g, raw)
	if err != nil {
		return err
	}
	h := g.Block.Header
	if !created {
		fmt.Fprintf(out, "Genesis block already present (same genesis), nothing to do: nonce=%d, pow_hash=%s\n", h.PowNonce, g.ChainID)
		return nil
	}
	fmt.Fprintf(out, "Genesis block has been mined: nonce=%d, pow_hash=%s\n", h.PowNonce, g.ChainID)
	return nil
}
