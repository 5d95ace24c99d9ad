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
