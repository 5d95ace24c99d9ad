package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"ccoin/api"
	"ccoin/api/client"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/snapshot"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
)

// errVerify prefixes every verification failure, so the exit message says
// that the node's answer, not the command, was at fault.
var errVerify = errors.New("verification failed")

// Checks verify-account names when one fails, beside the certificate's
// own (consensus.CertCheck): the answer's shape, and the Merkle path.
const (
	checkAnswer = "answer"      // the proof is malformed or for another address or block
	checkMerkle = "merkle_path" // the account does not verify against the certified state_root
)

// proofTries bounds how long verify-account waits for a node that has no
// certificate of its final block yet (503 proof_unavailable).
const proofTries = 10

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
	c := client.New(*url, nil)
	var j *api.AccountProofJSON
	for try := 1; ; try++ {
		j, err = c.AccountProof(ctx, addr)
		var ae *client.APIError
		if err == nil || try == proofTries || !errors.As(err, &ae) || ae.Code != api.CodeProofUnavailable {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	if err != nil {
		return err
	}
	p, err := proofFromJSON(j)
	if err != nil {
		return failed(checkAnswer, fmt.Errorf("malformed proof: %w", err))
	}
	if p.Address != addr {
		return failed(checkAnswer, fmt.Errorf("the node answered for %s", p.Address))
	}
	h, err := snapshot.VerifyAccount(g, p)
	if err != nil {
		if c := consensus.FailedCheck(err); c != "" {
			return failed(string(c), err)
		}
		if errors.Is(err, snapshot.ErrBadProof) {
			return failed(checkMerkle, err)
		}
		return failed(checkAnswer, err)
	}
	id := h.ID()
	if j.Block != h.Number || j.StateRoot != h.StateRoot.String() || j.BlockID != id.String() {
		return failed(checkAnswer, fmt.Errorf("the answer names block %d %s root %s, its certificate is of block %d %s root %s",
			j.Block, j.BlockID, j.StateRoot, h.Number, id, h.StateRoot))
	}
	status := "present"
	if !p.Found {
		status = "absent"
	}
	link := p.Cert.Votes[0]
	fmt.Fprintf(out, "verified: address=%s balance=%d nonce=%d (%s) at final block %d id=%s state_root=%s: "+
		"verified against finality, a certificate of %d distinct miners' votes for epochs %d -> %d (quorum %d of %d)\n",
		addr, p.Account.Balance, p.Account.Nonce, status, h.Number, id, h.StateRoot,
		len(p.Cert.Votes), link.Source.Epoch, link.Target.Epoch, g.Quorum, len(g.Miners))
	return nil
}

// failed says which check refused the node's answer.
func failed(check string, err error) error {
	return fmt.Errorf("%w: check %s: %w", errVerify, check, err)
}

// proofFromJSON decodes the API's proof without trusting any of it: the
// certificate is taken from its raw encoding only.
func proofFromJSON(j *api.AccountProofJSON) (*snapshot.AccountProof, error) {
	addr, err := crypto.ParseAddress(j.Address)
	if err != nil {
		return nil, err
	}
	p := &snapshot.AccountProof{Address: addr, Found: j.Found, Account: types.Account{Balance: j.Balance, Nonce: j.Nonce}}
	if len(j.Siblings) > 160 {
		return nil, fmt.Errorf("%d siblings", len(j.Siblings))
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
	if p.Cert, err = api.CertificateFromJSON(&j.Certificate); err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return p, nil
}
