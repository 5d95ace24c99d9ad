package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"ccoin/ccoin/crypto"
	"ccoin/node"
)

func runCreateAccount(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("create-account", "[--datadir D] [-c ccoin.json] [--password-file F]")
	cfgPath := fs.String("c", "", "node config (ccoin.json); its app.base_path is the data directory")
	datadir := fs.String("datadir", "", "data directory (overrides the config)")
	pwFile := fs.String("password-file", "", "encrypt the key with the passphrase in this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, dir, err := loadConfig(*cfgPath, *datadir)
	if err != nil {
		return err
	}
	pass, err := crypto.ReadPassphraseFile(*pwFile)
	if err != nil {
		return err
	}
	k, err := crypto.GenerateKey()
	if err != nil {
		return err
	}
	if _, err := crypto.SaveKey(dir, k, pass); err != nil {
		return err
	}
	fmt.Fprintf(out, "Created account with address=%s\n", k.Address())
	return nil
}

// loadAccount loads the node's key: client.account_address from the
// config, or the only key under <datadir>/keys.
func loadAccount(cfg *node.Config, datadir, pwFile string) (*crypto.PrivateKey, error) {
	if pwFile == "" {
		pwFile = cfg.Client.PasswordFile
	}
	pass, err := crypto.ReadPassphraseFile(pwFile)
	if err != nil {
		return nil, err
	}
	addr, err := onlyAccount(cfg, datadir)
	if err != nil {
		return nil, err
	}
	return crypto.LoadKey(datadir, addr, pass)
}

// onlyAccount names the account to use: client.account_address, or the
// only key under <datadir>/keys.
func onlyAccount(cfg *node.Config, datadir string) (crypto.Address, error) {
	addrText := cfg.Client.AccountAddress
	if addrText == "" {
		keys := filepath.Join(datadir, "keys")
		entries, _ := os.ReadDir(keys)
		var found []string
		for _, e := range entries {
			if _, err := crypto.ParseAddress(e.Name()); err == nil && e.IsDir() {
				found = append(found, e.Name())
			}
		}
		switch len(found) {
		case 0:
			return crypto.Address{}, fmt.Errorf("no account in %s: run 'ccoin create-account --datadir %s' or set client.account_address", keys, datadir)
		case 1:
			addrText = found[0]
		default:
			return crypto.Address{}, fmt.Errorf("several accounts in %s (%s): choose one with client.account_address in the config (or send --from ADDRESS)", keys, strings.Join(found, ", "))
		}
	}
	addr, err := crypto.ParseAddress(addrText)
	if err != nil {
		return crypto.Address{}, fmt.Errorf("account %q: %w", addrText, err)
	}
	return addr, nil
}
