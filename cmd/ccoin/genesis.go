package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"ccoin/ccoin/atomicfile"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
)

// runGenesis writes a genesis file for a new network: the validators (by
// address, or by the data directory holding their only key), the funded
// accounts, and a timestamp of now, so a by-hand network needs no editing.
// docs/genesis.md explains every field.
func runGenesis(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("genesis", "--miners A,B,... [--alloc A=BALANCE,...] [--out genesis.json] [--network-id N] [--interval 1] [--timestamp now]")
	miners := fs.String("miners", "", "validators in schedule order, comma separated: addresses, or data directories each holding one key (required)")
	alloc := fs.String("alloc", "", "initial balances, comma separated ADDRESS=BALANCE (ADDRESS may be a data directory); default: none")
	outPath := fs.String("out", "", "file to write (default: standard output)")
	networkID := fs.Uint64("network-id", 1337, "network id (peers of another network are refused)")
	interval := fs.Float64("interval", 1, "slot length in seconds")
	reward := fs.Uint64("reward", 100, "block reward credited to the sealer")
	difficulty := fs.Uint64("difficulty", 2, "HashCash difficulty of each block, in leading zero hex digits")
	genDifficulty := fs.Uint64("genesis-difficulty", 3, "HashCash difficulty of the genesis block")
	finality := fs.String("finality", genesis.FinalityMajority, "finality quorum: majority or two_thirds")
	timestamp := fs.Int64("timestamp", 0, "genesis time in unix seconds (default: now); slots are counted from it")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *miners == "" {
		return fmt.Errorf("--miners is required (the validators' addresses or data directories)")
	}
	f := genesis.File{
		NetworkID: *networkID,
		Timestamp: uint64(time.Now().Unix()),
		BlockMining: genesis.BlockMining{Interval: *interval, MaxBound: 20000, Reward: *reward, Difficulty: *difficulty,
			AllowEmpty: true, PlaceholderData: genesis.Placeholder{Kind: "str"}},
		Transaction:  genesis.TransactionSettings{PlaceholderData: genesis.Placeholder{Kind: "str"}},
		MaxPeers:     32,
		GenesisBlock: genesis.GenesisBlock{Difficulty: *genDifficulty},
		Alloc:        map[string]genesis.Alloc{},
		Finality:     *finality,
	}
	if *timestamp > 0 {
		f.Timestamp = uint64(*timestamp)
	}
	for _, m := range strings.Split(*miners, ",") {
		a, err := accountArg(strings.TrimSpace(m))
		if err != nil {
			return fmt.Errorf("--miners: %w", err)
		}
		f.Miners = append(f.Miners, a)
	}
	if *alloc != "" {
		for _, kv := range strings.Split(*alloc, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok {
				return fmt.Errorf("--alloc: %q is not ADDRESS=BALANCE", kv)
			}
			a, err := accountArg(k)
			if err != nil {
				return fmt.Errorf("--alloc: %w", err)
			}
			bal, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("--alloc: balance %q: %w", v, err)
			}
			f.Alloc[a] = genesis.Alloc{Balance: bal}
		}
	}
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	raw = append(raw, '\n')
	if _, err := genesis.Parse(raw); err != nil { // what initc will say, said now
		return err
	}
	if *outPath == "" {
		_, err = out.Write(raw)
		return err
	}
	if err := atomicfile.WriteFile(*outPath, raw); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s: %s, %s, timestamp %d\n", *outPath, plural(len(f.Miners), "validator"), plural(len(f.Alloc), "funded account"), f.Timestamp)
	return nil
}

// accountArg is an address, or a data directory holding exactly one key.
func accountArg(s string) (string, error) {
	if a, err := crypto.ParseAddress(s); err == nil {
		return a.String(), nil
	}
	if st, err := os.Stat(s); err != nil || !st.IsDir() {
		return "", fmt.Errorf("%q is neither an address nor a data directory", s)
	}
	cfg, _, err := loadConfig("", s)
	if err != nil {
		return "", err
	}
	addr, err := onlyAccount(cfg, s)
	if err != nil {
		return "", err
	}
	return addr.String(), nil
}
