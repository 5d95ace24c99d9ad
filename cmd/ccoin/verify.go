package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"ccoin/api"
	"ccoin/api/client"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/snapshot"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

// errVerify prefixes every verification failure, so the exit message says
// that the node's answer, not the command, was at fault.
var errVerify = errors.New("verification failed")

func runVerifyAccount(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("verify-account", "ADDRESS [--node URL] --genesis genesis.json")
	url := nodeFlag(fs)
	genPath := fs.String("genesis", "genesis.json", "the network's genesis file: the only thing trusted")
	arg, err := oneArg(fs, args, "ADDRESS")
	if err != nil {
		return err
	}
	addr, err := crypto.ParseAddress(arg)
	if err != nil {
		return err
	}
	g, err := genesis.Load(*genPath)
	if err != nil {
		return err
	}
	j, err := client.New(*url, nil).AccountProof(ctx, addr)
	if err != nil {
		return err
	}
	p, err := proofFromJSON(j)
	if err != nil {
		return fmt.Errorf("%w: malformed proof: %w", errVerify, err)
	}
	if p.Address != addr {
		return fmt.Errorf("%w: the node answered for %s", errVerify, p.Address)
	}
	h, err := snapshot.VerifyAccount(g, p)
	if err != nil {
		return fmt.Errorf("%w: %w", errVerify, err)
	}
	if j.Block != h.Number || j.StateRoot != h.StateRoot.String() {
		return fmt.Errorf("%w: the answer names block %d root %s, its proof is of block %d root %s", errVerify, j.Block, j.StateRoot, h.Number, h.StateRoot)
	}
	status := "present"
	if !p.Found {
		status = "absent"
	}
	fmt.Fprintf(out, "verified: address=%s balance=%d nonce=%d (%s) at finalized block %d id=%s state_root=%s, finality proven by %d sealed headers (quorum %d of %d miners)\n",
		addr, p.Account.Balance, p.Account.Nonce, status, h.Number, p.Headers[0].ID(), h.StateRoot, len(p.Headers), g.Quorum, len(g.Miners))
	return nil
}

// proofFromJSON decodes the API's proof without trusting any of it.
func proofFromJSON(j *api.AccountProofJSON) (*snapshot.AccountProof, error) {
	addr, err := crypto.ParseAddress(j.Address)
	if err != nil {
		return nil, err
	}
	p := &snapshot.AccountProof{Address: addr, Found: j.Found, Account: types.Account{Balance: j.Balance, Nonce: j.Nonce}}
	if len(j.Siblings) > 160 || len(j.Headers) > snapshot.MaxFinalityHeaders {
		return nil, fmt.Errorf("%d siblings, %d headers", len(j.Siblings), len(j.Headers))
	}
	for _, s := range j.Siblings {
		h, err := types.ParseHash(s)
		if err != nil {
			return nil, fmt.Errorf("sibling: %w", err)
		}
		p.Proof.Siblings = append(p.Proof.Siblings, h)
	}
	if j.Leaf != nil {
		k, err := crypto.ParseAddress(j.Leaf.Key)
		if err != nil {
			return nil, fmt.Errorf("leaf key: %w", err)
		}
		v, err := base64.StdEncoding.DecodeString(j.Leaf.Value)
		if err != nil {
			return nil, fmt.Errorf("leaf value: %w", err)
		}
		p.Proof.Leaf = &smt.ProofLeaf{Key: k, Value: v}
	}
	for i, h := range j.Headers {
		raw, err := base64.StdEncoding.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("header %d: %w", i, err)
		}
		s, err := snapshot.DecodeSealedHeader(raw)
		if err != nil {
			return nil, fmt.Errorf("header %d: %w", i, err)
		}
		p.Headers = append(p.Headers, s)
	}
	return p, nil
}
