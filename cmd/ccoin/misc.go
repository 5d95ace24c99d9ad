package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"ccoin/node"
)

func runVersion(ctx context.Context, args []string, out io.Writer) error {
	if err := parse(newFlags("version", ""), args); err != nil {
		return err
	}
	fmt.Fprintf(out, "ccoin %s\n", node.Version)
	return nil
}

func runDumpConfig(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("dumpconfig", "[-c ccoin.json]")
	cfgPath := fs.String("c", "", "node config (ccoin.json)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := node.LoadConfig(*cfgPath)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	fmt.Fprintln(out, string(b))
	return nil
}
