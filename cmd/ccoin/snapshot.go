package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/atomicfile"
	"ccoin/ccoin/chain"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/snapshot"
	"ccoin/ccoin/types"
	"ccoin/node"
)

const snapshotUsage = "usage: ccoin snapshot export --out FILE [--at finalized] [-c ccoin.json] [--datadir D]\n       ccoin snapshot import FILE [--genesis genesis.json] [-c ccoin.json] [--datadir D]\nrun 'ccoin snapshot export -h' or 'ccoin snapshot import -h' for their flags"

func runSnapshot(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "export":
			return runSnapshotExport(ctx, args[1:], out)
		case "import":
			return runSnapshotImport(ctx, args[1:], out)
		case "-h", "-help", "--help":
			fmt.Fprintln(os.Stderr, snapshotUsage)
			return flag.ErrHelp
		}
		fmt.Fprintf(os.Stderr, "ccoin snapshot: unknown subcommand %q\n", args[0])
	}
	fmt.Fprintln(os.Stderr, snapshotUsage)
	return errUsage
}

// openNodeDB opens a data directory's chain database; a running node holds
// its lock, so this fails while one runs.
func openNodeDB(cfgPath, datadir string) (string, error) {
	_, dir, err := loadConfig(cfgPath, datadir)
	return dir, err
}

func runSnapshotExport(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("snapshot export", "--out FILE [--at finalized] [-c ccoin.json] [--datadir D] [--chunk-accounts N]")
	outPath := fs.String("out", "", "snapshot file to write")
	at := fs.String("at", "finalized", "block to snapshot (only finalized: a snapshot must be provably final)")
	cfgPath := fs.String("c", "", "node config (ccoin.json)")
	datadir := fs.String("datadir", "", "data directory (overrides the config; stop the node first)")
	per := fs.Int("chunk-accounts", snapshot.DefaultChunkAccounts, "accounts per chunk")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *outPath == "" || *at != "finalized" {
		fs.Usage()
		return errUsage
	}
	dir, err := openNodeDB(*cfgPath, *datadir)
	if err != nil {
		return err
	}
	db, err := chain.OpenDB(node.ChainDir(dir))
	if err != nil {
		return err
	}
	defer db.Close()
	raw, err := chain.StoredGenesis(db)
	if err != nil {
		return err
	}
	g, err := genesis.Parse(raw)
	if err != nil {
		return err
	}
	// Finality comes from the node's finality gadget state: a snapshot is
	// only of a final block the node holds a certificate for.
	var c *chain.Chain
	ffg, err := consensus.NewFinality(consensus.FinalityConfig{Genesis: g, Auth: consensus.RSAVotes{},
		Headers: lateChain{&c}, DB: chain.NewVoteStore(db)})
	if err != nil {
		return err
	}
	c, err = chain.Open(db, chain.Config{Genesis: g, Verifier: consensus.NewEngine(g, nil), Finality: ffg, Logger: hclog.NewNullLogger()})
	if err != nil {
		return err
	}
	if _, err := c.Refresh(); err != nil {
		return err
	}
	start := time.Now()
	prog := newProgress(out, interactive(), "exported")
	var m *snapshot.Manifest
	err = atomicfile.Write(*outPath, func(w io.Writer) error {
		var err error
		m, err = snapshot.Export(w, c, g, ffg.Certificate(), snapshot.Options{ChunkAccounts: *per, Progress: func(n uint64) {
			prog.Update(n, 0)
		}})
		if err == nil {
			err = ctx.Err() // interrupted: keep no file
		}
		return err
	})
	prog.Finish()
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(*outPath)
	fmt.Fprintf(out, "snapshot written: %s block=%d id=%s state_root=%s accounts=%d chunks=%d in %s\n",
		abs, m.Number, m.BlockID, m.StateRoot, m.Accounts, len(m.Chunks), time.Since(start).Round(time.Millisecond))
	return nil
}

// lateChain lets the finality gadget read the chain opened after it.
type lateChain struct{ c **chain.Chain }

func (l lateChain) Header(id types.Hash) (*types.Header, error) { return (*l.c).Header(id) }

func runSnapshotImport(_ context.Context, args []string, out io.Writer) error {
	fs := newFlags("snapshot import", "FILE [--genesis genesis.json] [-c ccoin.json] [--datadir D]")
	genPath := fs.String("genesis", "", "genesis file (default: the one initc stored in the data directory)")
	cfgPath := fs.String("c", "", "node config (ccoin.json)")
	datadir := fs.String("datadir", "", "data directory (overrides the config)")
	pos, err := nArgs(fs, args, "FILE")
	if err != nil {
		return err
	}
	dir, err := openNodeDB(*cfgPath, *datadir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	db, err := chain.OpenDB(node.ChainDir(dir))
	if err != nil {
		return err
	}
	defer db.Close()
	var raw []byte
	if *genPath != "" {
		if raw, err = os.ReadFile(*genPath); err != nil {
			return fmt.Errorf("read genesis: %w", err)
		}
	} else if raw, err = chain.StoredGenesis(db); errors.Is(err, chain.ErrNotInitialized) {
		return fmt.Errorf("no genesis: pass --genesis or run ccoin initc first")
	} else if err != nil {
		return err
	}
	g, err := genesis.Parse(raw)
	if err != nil {
		return err
	}
	start := time.Now()
	prog := newProgress(out, interactive(), "imported")
	m, err := snapshot.Import(db, g, raw, pos[0], prog.Update)
	prog.Finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "snapshot imported: block=%d id=%s state_root=%s accounts=%d in %s; the node syncs blocks from %d on\n",
		m.Number, m.BlockID, m.StateRoot, m.Accounts, time.Since(start).Round(time.Millisecond), m.Number+1)
	return nil
}
