package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"ccoin/api"
)

// maxBody bounds what is read from a node; a block of 20,000 transactions
// rendered as JSON is about 20 MB.
const maxBody = 256 << 20

// requestTimeout bounds every request but the event stream.
const requestTimeout = 60 * time.Second

// nodeClient is the little of the API the generator needs, decoding only the
// fields it uses (a full block decode would cost the generator more than the
// node spends sending it).
type nodeClient struct {
	base string
	hc   *http.Client
	// fullBlocks is set once the node shows it has no GET /blocks/{n}/txids.
	fullBlocks atomic.Bool
}

// apiError is a non-2xx answer; Code is the API's stable code, or
// "http_<status>" when the body had none.
type apiError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration // from the Retry-After header, when given
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// blockTxs is a block reduced to what tracking needs: GET /blocks/{n}/txids.
type blockTxs = api.BlockTxIDsJSON

// fullBlockTxs is the same read from a full block (GET /blocks/{n}), for a
// node that predates the txids route.
type fullBlockTxs struct {
	ID           string `json:"id"`
	Number       uint64 `json:"number"`
	Parent       string `json:"parent"`
	Canonical    bool   `json:"canonical"`
	Transactions []struct {
		ID string `json:"id"`
	} `json:"transactions"`
}

func (c *nodeClient) do(ctx context.Context, method, path string, body []byte, out any) error {
	return c.doType(ctx, method, path, "application/json", body, out)
}

// doType is do with a body of type ctype.
func (c *nodeClient) doType(ctx context.Context, method, path, ctype string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNode, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %v", ErrNode, method, path, err)
	}
	defer resp.Body.Close()
	p, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%w: %s %s: read: %v", ErrNode, method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e api.ErrorResponse
		if json.Unmarshal(p, &e) != nil || e.Error.Code == "" {
			msg := string(p)
			if len(msg) > 200 {
				msg = msg[:200]
			}
			return &apiError{Status: resp.StatusCode, Code: fmt.Sprintf("http_%d", resp.StatusCode), Message: strings.TrimSpace(msg)}
		}
		ae := &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			ae.RetryAfter = time.Duration(s) * time.Second
		}
		return ae
	}
	if err := json.Unmarshal(p, out); err != nil {
		return fmt.Errorf("%w: %s %s: decode: %v", ErrNode, method, path, err)
	}
	return nil
}

func (c *nodeClient) status(ctx context.Context) (*api.StatusJSON, error) {
	var s api.StatusJSON
	return &s, c.do(ctx, http.MethodGet, "/status", nil, &s)
}

func (c *nodeClient) account(ctx context.Context, addr string) (*api.AccountJSON, error) {
	var a api.AccountJSON
	return &a, c.do(ctx, http.MethodGet, "/accounts/"+addr, nil, &a)
}

// block reads canonical block n's id, parent and transaction ids from
// GET /blocks/{n}/txids, which costs the node a fraction of the full block
// JSON. A node that predates that route answers not_found (an unknown
// route, where a missing block is unknown_block); it is asked for full
// blocks from then on, so that a run against it still counts inclusions.
func (c *nodeClient) block(ctx context.Context, n uint64) (*blockTxs, error) {
	if !c.fullBlocks.Load() {
		var b blockTxs
		err := c.do(ctx, http.MethodGet, fmt.Sprintf("/blocks/%d/txids", n), nil, &b)
		var ae *apiError
		if !errors.As(err, &ae) || ae.Code != api.CodeNotFound {
			return &b, err
		}
		c.fullBlocks.Store(true)
	}
	var fb fullBlockTxs
	if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/blocks/%d", n), nil, &fb); err != nil {
		return nil, err
	}
	b := &blockTxs{ID: fb.ID, Number: fb.Number, Parent: fb.Parent, Canonical: fb.Canonical, TxIDs: make([]string, len(fb.Transactions))}
	for i, tx := range fb.Transactions {
		b.TxIDs[i] = tx.ID
	}
	return b, nil
}

// submit posts a batch already framed by api.EncodeTxBatch: canonical
// transactions in MessagePack, which the node decodes once, with no JSON.
func (c *nodeClient) submit(ctx context.Context, body []byte) (*api.SubmitResponseJSON, error) {
	var r api.SubmitResponseJSON
	return &r, c.doType(ctx, http.MethodPost, "/txs", api.ContentTypeMsgpack, body, &r)
}

// sseEvent is one server-sent event.
type sseEvent struct {
	Kind string
	Data []byte
}

// maxEventLine bounds one line of the event stream.
const maxEventLine = 1 << 20

// events follows GET /events until ctx ends or the stream breaks, calling fn
// for each event.
func (c *nodeClient) events(ctx context.Context, fn func(sseEvent)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/events", nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNode, err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: events: %v", ErrNode, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &apiError{Status: resp.StatusCode, Code: fmt.Sprintf("http_%d", resp.StatusCode), Message: "events"}
	}
	return readSSE(resp.Body, fn)
}

// readSSE parses the subset of server-sent events the API uses: "event:"
// and "data:" lines, comments, and a blank line ending each event.
func readSSE(r io.Reader, fn func(sseEvent)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxEventLine)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if ev.Kind != "" || len(ev.Data) > 0 {
				if ev.Kind == "" {
					ev.Kind = "message"
				}
				fn(ev)
			}
			ev = sseEvent{}
		case line[0] == ':':
		case bytes.HasPrefix(line, []byte("event:")):
			ev.Kind = strings.TrimSpace(string(line[len("event:"):]))
		case bytes.HasPrefix(line, []byte("data:")):
			d := bytes.TrimPrefix(line[len("data:"):], []byte(" "))
			if len(ev.Data) > 0 {
				ev.Data = append(ev.Data, '\n')
			}
			if len(ev.Data)+len(d) > maxEventLine {
				return fmt.Errorf("%w: event larger than %d bytes", ErrNode, maxEventLine)
			}
			ev.Data = append(ev.Data, d...)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: events: %v", ErrNode, err)
	}
	return fmt.Errorf("%w: event stream ended", ErrNode)
}
