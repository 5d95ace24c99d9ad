package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"ccoin/api"
	"ccoin/api/client"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// defaultNode is node1 of a default `ccoin devnet`.
const defaultNode = "http://127.0.0.1:7111"

func nodeFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("CCOIN_NODE")
	if def == "" {
		def = defaultNode
	}
	return fs.String("node", def, "node API URL (or $CCOIN_NODE)")
}

func printJSON(out io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(b))
	return err
}

func runStatus(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("status", "[--node URL]")
	url := nodeFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := client.New(*url, nil).Status(ctx)
	if err != nil {
		return err
	}
	return printJSON(out, st)
}

func runBalance(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("balance", "[--node URL] ADDRESS")
	url := nodeFlag(fs)
	arg, err := oneArg(fs, args, "ADDRESS")
	if err != nil {
		return err
	}
	addr, err := crypto.ParseAddress(arg)
	if err != nil {
		return err
	}
	acc, err := client.New(*url, nil).Account(ctx, addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "address=%s balance=%d nonce=%d next_nonce=%d\n", acc.Address, acc.Balance, acc.Nonce, acc.NextNonce)
	return nil
}

func runTx(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("tx", "[--node URL] TX_ID")
	url := nodeFlag(fs)
	arg, err := oneArg(fs, args, "TX_ID")
	if err != nil {
		return err
	}
	id, err := types.ParseHash(arg)
	if err != nil {
		return err
	}
	tx, err := client.New(*url, nil).Tx(ctx, id)
	if err != nil {
		return err
	}
	block := ""
	if tx.Block != nil {
		block = tx.Block.String()
	}
	fmt.Fprintf(out, "id=%s status=%s from=%s to=%s amount=%d nonce=%d block=%s block_number=%d confirmations=%d\n",
		id, tx.Status, tx.Tx.From, tx.Tx.To, tx.Tx.Amount, tx.Tx.Nonce, block, tx.BlockNumber, tx.Confirmations)
	return nil
}

func runSend(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("send", "--to ADDRESS --amount N [--from ADDRESS] [--data TEXT] [--node URL] [--wait included|finalized] [--print [--nonce N --chain-id ID]] [-c ccoin.json | --datadir D]")
	url := nodeFlag(fs)
	to := fs.String("to", "", "recipient address (required)")
	amount := fs.Uint64("amount", 0, "amount to send")
	data := fs.String("data", "", "data payload (UTF-8, at most 1 KiB)")
	from := fs.String("from", "", "sending account, when the data directory holds several keys (default client.account_address, or the only key)")
	wait := fs.String("wait", "", "wait until the transaction is included or finalized")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long --wait waits")
	printOnly := fs.Bool("print", false, "print the signed transaction as the JSON that POST /txs takes, instead of submitting it")
	nonce := fs.Uint64("nonce", 0, "nonce to sign with (default: the sender's next nonce, asked of the node)")
	chainID := fs.String("chain-id", "", "chain id to sign for (default: asked of the node); with --nonce and --print no node is needed")
	cfgPath := fs.String("c", "", "config naming the account (client.account_address, app.base_path)")
	datadir := fs.String("datadir", "", "data directory holding the account key")
	pwFile := fs.String("password-file", "", "passphrase file for an encrypted key")
	if err := parse(fs, args); err != nil {
		return err
	}
	nonceSet := false
	fs.Visit(func(f *flag.Flag) { nonceSet = nonceSet || f.Name == "nonce" })
	if *wait != "" && *wait != "included" && *wait != "finalized" {
		return fmt.Errorf("--wait must be included or finalized")
	}
	if *wait != "" && *printOnly {
		return fmt.Errorf("--wait and --print exclude each other: --print submits nothing")
	}
	if *to == "" {
		return fmt.Errorf("--to is required (the recipient's address)")
	}
	toAddr, err := crypto.ParseAddress(*to)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if len(*data) > types.MaxTxData {
		return fmt.Errorf("--data is %d bytes, at most %d", len(*data), types.MaxTxData)
	}
	cfg, dir, err := loadConfig(*cfgPath, *datadir)
	if err != nil {
		return err
	}
	if *from != "" {
		cfg.Client.AccountAddress = *from
	}
	key, err := loadAccount(cfg, dir, *pwFile)
	if err != nil {
		return err
	}
	c := client.New(*url, nil)
	var chain types.Hash
	if *chainID != "" {
		if chain, err = types.ParseHash(*chainID); err != nil {
			return fmt.Errorf("--chain-id: %w", err)
		}
	} else {
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		if chain, err = types.ParseHash(st.ChainID); err != nil {
			return err
		}
	}
	if !nonceSet {
		acc, err := c.Account(ctx, key.Address())
		if err != nil {
			return err
		}
		*nonce = acc.NextNonce
	}
	tx := &types.Transaction{ChainID: chain, Nonce: *nonce, From: key.Address(), To: toAddr, Amount: *amount,
		Data: []byte(*data), Time: uint64(time.Now().UnixMilli())}
	if err := tx.Sign(key); err != nil {
		return err
	}
	if *printOnly {
		return printJSON(out, api.TxToJSON(tx))
	}
	res, err := c.SubmitTxs(ctx, []*types.Transaction{tx})
	if err != nil {
		return err
	}
	if len(res) != 1 || !res[0].Accepted {
		if len(res) == 1 && res[0].Error != nil {
			return fmt.Errorf("refused: %s: %s", res[0].Error.Code, res[0].Error.Message)
		}
		return fmt.Errorf("refused")
	}
	fmt.Fprintf(out, "%s\n", tx.ID())
	if *wait == "" {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	got, err := c.WaitTx(wctx, tx.ID(), *wait, 250*time.Millisecond)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "status=%s block_number=%d\n", got.Status, got.BlockNumber)
	return nil
}
