package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"ccoin/api"
	"ccoin/ccoin/txpool"
	"ccoin/ccoin/types"
)

// A basic node whose only validator peer stops taking its transactions
// (the link to it is cut one way, so the node's writes to it block) does
// not drop that peer for its backlog, and refuses new client transactions
// early, over HTTP with 503 overloaded and Retry-After, instead of
// queuing what it cannot send.
func TestSubmitRefusedWhileGossipBacklogged(t *testing.T) {
	c := newCluster(t, defaultSpec(t))
	a := c.add("A", TypeValidator, validatorKeys(t)[0])
	b := c.add("B", TypeBasic, outsiderKey(t))
	port := freePort(t)
	a.start()
	b.startWith(func(o *Options) {
		o.Config.HTTP.Disabled = false
		o.Config.HTTP.Host = "127.0.0.1"
		o.HTTPPort = port
	})
	waitPeers(t, a, b)
	n := b.N()
	sub := n.apiDeps().Submitter
	tx := c.transfer(userKeys(t)[0], fillerAddr(3), 1, 5)
	post := func() (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/txs", port), api.ContentTypeMsgpack,
			bytes.NewReader(api.EncodeTxBatch([][]byte{tx.Encode(nil)})))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		p, _ := io.ReadAll(resp.Body)
		return resp, p
	}
	if _, over := sub.Overloaded(); over || n.Network().Backlogged() {
		t.Fatal("overloaded with nothing queued")
	}

	// From here the peer's idle timeout (a few seconds) runs: it hears
	// nothing from B and will drop it. Everything below takes far less.
	c.mem.Cut("B", "A")
	junk := make([][]byte, 24<<10) // 24 MiB: past the default TxBacklogHigh beyond what the link and writer hold
	for i := range junk {
		junk[i] = fmt.Appendf(make([]byte, 0, 1024), "junk %d %01000d", i, 0)
	}
	n.Network().BroadcastTxs(junk)
	waitFor(t, 3*time.Second, "B backlogged", n.Network().Backlogged)

	if wait, over := sub.Overloaded(); !over || wait <= 0 {
		t.Fatalf("Overloaded() = %v, %v while backlogged: the API's early check would read the body", wait, over)
	}
	resp, p := post()
	var e api.ErrorResponse
	if json.Unmarshal(p, &e); resp.StatusCode != http.StatusServiceUnavailable || e.Error.Code != "overloaded" ||
		resp.Header.Get("Retry-After") == "" {
		t.Fatalf("POST /txs while backlogged: %d %s Retry-After %q", resp.StatusCode, p, resp.Header.Get("Retry-After"))
	}
	// Past the API's early check (a request that raced the backlog), the
	// submission is refused as an overload, and nothing enters the pool.
	if errs := sub.SubmitVerifiedTxs([]*types.Transaction{tx}); !errors.Is(errs[0], txpool.ErrOverloaded) {
		t.Fatalf("submit while backlogged: %v", errs[0])
	}
	if st := n.Pool().Stats(); st.Pending+st.Queued != 0 {
		t.Fatal("a refused transaction entered the pool")
	}
	if len(n.Network().Peers()) != 1 {
		t.Fatal("the backlogged validator was dropped")
	}
}
