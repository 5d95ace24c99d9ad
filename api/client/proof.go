package client

import (
	"context"
	"net/http"

	"ccoin/api"
	"ccoin/ccoin/crypto"
)

// AccountProof is GET /accounts/{address}?proof=true: the account at the
// node's finalized block with its proofs, unverified (see package snapshot).
func (c *Client) AccountProof(ctx context.Context, addr crypto.Address) (*api.AccountProofJSON, error) {
	var j api.AccountProofJSON
	if err := c.do(ctx, http.MethodGet, "/accounts/"+addr.String()+"?proof=true", nil, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// Finality is GET /finality: the node's newest finality certificate,
// unverified; check it with api.CertificateFromJSON and
// consensus.VerifyCertificate.
func (c *Client) Finality(ctx context.Context) (*api.FinalityJSON, error) {
	var j api.FinalityJSON
	if err := c.do(ctx, http.MethodGet, "/finality", nil, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// Validators is GET /validators.
func (c *Client) Validators(ctx context.Context) (*api.ValidatorsJSON, error) {
	var j api.ValidatorsJSON
	if err := c.do(ctx, http.MethodGet, "/validators", nil, &j); err != nil {
		return nil, err
	}
	return &j, nil
}
