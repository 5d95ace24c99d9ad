package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"ccoin/api"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

// maxResponse bounds what the client reads from a server.
const maxResponse = 64 << 20

// APIError is an error answer from the API.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("api: %d %s: %s", e.Status, e.Code, e.Message)
}

// Client talks to one node.
type Client struct {
	base string
	hc   *http.Client
}

// New returns a client of the API at baseURL (for example
// "http://127.0.0.1:4445"); a nil httpClient means http.DefaultClient.
func New(baseURL string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), hc: httpClient}
}

// Tx is a transaction and where it stands.
type Tx struct {
	Tx            *types.Transaction
	Status        string      // pending|included|finalized
	Block         *types.Hash // nil while pending
	BlockNumber   uint64
	Index         int
	Confirmations uint64
}

// Block is a block and its standing on the node's chain.
type Block struct {
	Block     *types.Block // Txs is empty when the block was fetched without them
	TxCount   int
	Finalized bool
	Canonical bool
}

// SubmitResult is the outcome for one submitted transaction.
type SubmitResult struct {
	ID       string
	Accepted bool
	Error    *APIError // nil when accepted; Status is 0 (the batch itself succeeded)
}

// Status is GET /status.
func (c *Client) Status(ctx context.Context) (*api.StatusJSON, error) {
	var out api.StatusJSON
	if err := c.do(ctx, http.MethodGet, "/status", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Account is GET /accounts/{address}.
func (c *Client) Account(ctx context.Context, addr crypto.Address) (*api.AccountInfo, error) {
	var j api.AccountJSON
	if err := c.do(ctx, http.MethodGet, "/accounts/"+addr.String(), nil, &j); err != nil {
		return nil, err
	}
	a, err := crypto.ParseAddress(j.Address)
	if err != nil {
		return nil, fmt.Errorf("client: account address: %w", err)
	}
	return &api.AccountInfo{Address: a, Balance: j.Balance, Nonce: j.Nonce, NextNonce: j.NextNonce}, nil
}

// Tx is GET /txs/{id}.
func (c *Client) Tx(ctx context.Context, id types.Hash) (*Tx, error) {
	var j api.TxStatusJSON
	if err := c.do(ctx, http.MethodGet, "/txs/"+id.String(), nil, &j); err != nil {
		return nil, err
	}
	t, err := api.TxFromJSON(j.TxJSON)
	if err != nil {
		return nil, fmt.Errorf("client: transaction: %w", err)
	}
	if t.ID() != id {
		return nil, fmt.Errorf("client: asked for transaction %s, got %s", id, t.ID())
	}
	out := &Tx{Tx: t, Status: j.Status, Confirmations: j.Confirmations}
	if j.Block != nil {
		h, err := types.ParseHash(*j.Block)
		if err != nil {
			return nil, fmt.Errorf("client: block id: %w", err)
		}
		out.Block = &h
	}
	if j.BlockNumber != nil {
		out.BlockNumber = *j.BlockNumber
	}
	if j.Index != nil {
		out.Index = *j.Index
	}
	return out, nil
}

// Block is GET /blocks/{numberOrID}; "latest" and "finalized" work too.
func (c *Client) Block(ctx context.Context, numberOrID string) (*Block, error) {
	var j api.BlockJSON
	if err := c.do(ctx, http.MethodGet, "/blocks/"+url.PathEscape(numberOrID), nil, &j); err != nil {
		return nil, err
	}
	b, err := api.BlockFromJSON(j)
	if err != nil {
		return nil, fmt.Errorf("client: block: %w", err)
	}
	if b.ID().String() != j.ID {
		return nil, fmt.Errorf("client: block %s hashes to %s", j.ID, b.ID())
	}
	return &Block{Block: b, TxCount: j.TxCount, Finalized: j.Finalized, Canonical: j.Canonical}, nil
}

// SubmitTxs is POST /txs with a MessagePack batch of the transactions'
// canonical encodings (the node decodes each once; no JSON on the way).
// The error is for the batch as a whole; each transaction's outcome is in
// its result.
func (c *Client) SubmitTxs(ctx context.Context, txs []*types.Transaction) ([]SubmitResult, error) {
	raws := make([][]byte, len(txs))
	for i, t := range txs {
		raws[i] = t.Encode(nil)
	}
	var out api.SubmitResponseJSON
	if err := c.send(ctx, http.MethodPost, "/txs", api.ContentTypeMsgpack, api.EncodeTxBatch(raws), &out); err != nil {
		return nil, err
	}
	if len(out.Results) != len(txs) {
		return nil, fmt.Errorf("client: %d results for %d transactions", len(out.Results), len(txs))
	}
	res := make([]SubmitResult, len(out.Results))
	for i, r := range out.Results {
		res[i] = SubmitResult{ID: r.ID, Accepted: r.Accepted}
		if r.Error != nil {
			res[i].Error = &APIError{Code: r.Error.Code, Message: r.Error.Message}
		}
	}
	return res, nil
}

// WaitTx polls GET /txs/{id} every poll until the transaction is included
// (until = "included", which finalized also satisfies) or finalized (until
// = "finalized"), or ctx ends. An unknown transaction is polled for too: it
// may not have reached this node yet.
func (c *Client) WaitTx(ctx context.Context, id types.Hash, until string, poll time.Duration) (*Tx, error) {
	if until != api.TxIncluded && until != api.TxFinalized {
		return nil, fmt.Errorf("client: wait until %q: want included or finalized", until)
	}
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		tx, err := c.Tx(ctx, id)
		var ae *APIError
		switch {
		case err == nil:
			if tx.Status == until || (until == api.TxIncluded && tx.Status == api.TxFinalized) {
				return tx, nil
			}
		case errors.As(err, &ae) && ae.Code == api.CodeUnknownTx:
		default:
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	if in == nil {
		return c.send(ctx, method, path, "", nil, out)
	}
	p, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("client: encode: %w", err)
	}
	return c.send(ctx, method, path, "application/json", p, out)
}

// send makes one request with body of type ctype (none when ctype is
// empty) and decodes the JSON answer into out.
func (c *Client) send(ctx context.Context, method, path, ctype string, p []byte, out any) error {
	var body io.Reader
	if ctype != "" {
		body = bytes.NewReader(p)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	p, err = io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("client: %s %s: read: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e api.ErrorResponse
		if json.Unmarshal(p, &e) != nil || e.Error.Code == "" {
			return &APIError{Status: resp.StatusCode, Message: strings.TrimSpace(string(truncate(p, 200)))}
		}
		return &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if err := json.Unmarshal(p, out); err != nil {
		return fmt.Errorf("client: %s %s: decode: %w", method, path, err)
	}
	return nil
}

func truncate(p []byte, n int) []byte {
	if len(p) > n {
		return p[:n]
	}
	return p
}
