package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/crypto"
)

// Client limits.
const (
	clientTimeout     = 10 * time.Second
	maxAnswerBytes    = 1 << 20 // a full GET /peers answer is ~60 KiB
	removeTimeout     = 3 * time.Second
	minInterval       = 10 * time.Millisecond
	maxFailRetryDelay = 10 * time.Second
)

// Client talks to a discovery registry. Key signs registrations and removals;
// it is only needed for Register, Remove and RunRegistrar. A Client must not
// be copied after first use.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	Key     *crypto.PrivateKey
	Logger  hclog.Logger

	mu     sync.Mutex
	lastTS int64 // timestamps are kept strictly increasing
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: clientTimeout}
}

func (c *Client) logger() hclog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return hclog.NewNullLogger()
}

// timestamp returns now in unix ms, strictly above any earlier one, so two
// requests in the same millisecond are not taken for a replay.
func (c *Client) timestamp() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := time.Now().UnixMilli()
	if ts <= c.lastTS {
		ts = c.lastTS + 1
	}
	c.lastTS = ts
	return ts
}

// signed fills address, key, timestamp and signature for op.
func (c *Client) signed(op string, e Entry) (Entry, error) {
	if c.Key == nil {
		return e, fmt.Errorf("%w: client has no key", ErrBadRequest)
	}
	e.Timestamp = c.timestamp()
	if err := e.Sign(op, c.Key); err != nil {
		return e, err
	}
	if err := e.Validate(op); err != nil {
		return e, err
	}
	return e, nil
}

// Register announces e (host, port, network id, chain id, node type) under
// the client's key. It fills address, public key, timestamp and signature.
func (c *Client) Register(ctx context.Context, e Entry) error {
	e, err := c.signed(OpAdd, e)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, "/peers/"+e.Address, e, nil)
}

// Remove withdraws the client's entry. Only host, port, network id and chain
// id are taken from e; they are signed, not matched.
func (c *Client) Remove(ctx context.Context, e Entry) error {
	e, err := c.signed(OpRemove, e)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, "/peers/"+e.Address, e, nil)
}

// Peers fetches up to limit random live peers (the registry caps it at
// MaxPeersLimit). networkID 0 and chainID "" mean any. Malformed entries and
// the client's own entry are left out: the answer is untrusted input.
func (c *Client) Peers(ctx context.Context, limit int, networkID uint64, chainID string) ([]Entry, error) {
	if limit < 1 {
		limit = DefaultPeersLimit
	}
	q := url.Values{}
	q.Set("limit", strconv.Itoa(limit))
	if networkID != 0 {
		q.Set("network_id", strconv.FormatUint(networkID, 10))
	}
	if chainID != "" {
		q.Set("chain_id", chainID)
	}
	var ans peersAnswer
	if err := c.do(ctx, http.MethodGet, "/peers?"+q.Encode(), nil, &ans); err != nil {
		return nil, err
	}
	self := ""
	if c.Key != nil {
		self = c.Key.Address().String()
	}
	out := make([]Entry, 0, min(len(ans.Peers), limit))
	seen := make(map[string]bool, len(ans.Peers))
	for _, e := range ans.Peers {
		if len(out) == limit {
			break
		}
		if e.Address == self || seen[e.Address] || !plausible(e, networkID, chainID) {
			continue
		}
		seen[e.Address] = true
		out = append(out, e)
	}
	return out, nil
}

// plausible checks what can be checked of an unsigned answer entry.
func plausible(e Entry, networkID uint64, chainID string) bool {
	a, err := crypto.ParseAddress(e.Address)
	if err != nil || a.String() != e.Address {
		return false
	}
	if validateHost(e.Host) != nil || e.Port < 1 || e.Port > 65535 {
		return false
	}
	if networkID != 0 && e.NetworkID != networkID || chainID != "" && e.ChainID != chainID {
		return false
	}
	return e.NodeType == NodeValidator || e.NodeType == NodeBasic
}

// do sends one JSON request and decodes a JSON answer into out (if non-nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRegistry, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRegistry, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return fmt.Errorf("%w: read answer: %v", ErrRegistry, err)
	}
	if len(data) > maxAnswerBytes {
		return fmt.Errorf("%w: answer larger than %d bytes", ErrRegistry, maxAnswerBytes)
	}
	if resp.StatusCode/100 != 2 {
		var eb errorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
			return &APIError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
		}
		return &APIError{Status: resp.StatusCode, Code: "", Message: http.StatusText(resp.StatusCode)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%w: decode answer: %v", ErrRegistry, err)
		}
	}
	return nil
}

// RunRegistrar registers e now and every interval until ctx ends, then removes
// it (best effort, with a short timeout). Failures are logged, never returned:
// the node works without the registry. interval <= 0 means a third of the
// default TTL.
func (c *Client) RunRegistrar(ctx context.Context, e Entry, interval time.Duration) {
	log := c.logger()
	if interval <= 0 {
		interval = DefaultTTL / 3
	}
	interval = max(interval, minInterval) // never a busy loop
	failing := false
	registered := false
	for {
		err := c.Register(ctx, e)
		next := interval
		switch {
		case err == nil:
			if failing {
				log.Info("registered with discovery again", "registry", c.BaseURL)
			} else if !registered {
				log.Debug("registered with discovery", "registry", c.BaseURL)
			}
			failing, registered = false, true
		case ctx.Err() != nil:
			// shutting down; fall through to the removal below
		default:
			if !failing {
				log.Warn("discovery registration failed", "registry", c.BaseURL, "error", err)
			} else {
				log.Debug("discovery registration still failing", "registry", c.BaseURL, "error", err)
			}
			failing = true
			next = min(interval, maxFailRetryDelay)
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			if registered {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
				if err := c.Remove(rctx, e); err != nil {
					log.Debug("discovery removal failed", "registry", c.BaseURL, "error", err)
				}
				cancel()
			}
			return
		case <-t.C:
		}
	}
}
