package p2p

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/p2p/wire"
	"ccoin/ccoin/types"

	"github.com/hashicorp/go-hclog"
)

const testNetworkID = 77

var testChainID = [32]byte{1, 2, 3}

// testKey is the i-th of the keys the tests share (generation is slow).
func testKey(t testing.TB, i int) *crypto.PrivateKey { return cryptotest.Keys(t, i+1)[i] }

// fakeChain serves a fixed chain of blocks.
type fakeChain struct {
	blocks [][]byte
	leader crypto.Address
}

func (c *fakeChain) Head() (uint64, [32]byte, uint64) {
	if len(c.blocks) == 0 {
		return 0, [32]byte{9}, 0
	}
	return uint64(len(c.blocks) - 1), sha256.Sum256(c.blocks[len(c.blocks)-1]), uint64(len(c.blocks) / 2)
}

func (c *fakeChain) BlocksByNumber(from uint64, count int, maxBytes int) [][]byte {
	var out [][]byte
	size := 0
	for i := from; i < uint64(len(c.blocks)) && len(out) < count; i++ {
		if size+len(c.blocks[i]) > maxBytes {
			break
		}
		size += len(c.blocks[i])
		out = append(out, c.blocks[i])
	}
	return out
}

func (c *fakeChain) Leader(nowMs uint64) (uint64, crypto.Address) { return nowMs / 1000, c.leader }

func (c *fakeChain) FinalityEvidence(uint64, [32]byte) ([]byte, [][]byte) { return nil, nil }

func (c *fakeChain) BlockByID([32]byte) []byte { return nil }

// testBlock is a block encoding named by name with n transactions. They are
// stand-ins, unsigned: the network layer judges nothing, the handler does.
func testBlock(name string, n int) []byte {
	b := &types.Block{Header: types.Header{Version: 1, Number: 2, Data: []byte(name)}}
	for i := range n {
		b.Txs = append(b.Txs, &types.Transaction{Nonce: uint64(i + 1), Amount: 1, Data: []byte(name),
			PublicKey: bytes.Repeat([]byte{1}, 294), Signature: bytes.Repeat([]byte{2}, 256)})
	}
	return b.Encode(nil)
}

// fakeHandler accepts each item the first time, reports Known afterwards,
// rejects items starting with "bad", and counts deliveries per peer.
type fakeHandler struct {
	mu       sync.Mutex
	seen     map[[32]byte]bool
	perPeer  map[string]int // "peerID/hash" -> deliveries
	blocks   map[[32]byte]bool
	txs      map[[32]byte]bool
	txCalls  int
	maxBatch int
	pool     map[types.Hash][]byte // transactions FillBlock finds, by id
	blockIDs map[types.Hash]bool   // accepted blocks, by id
}

func newFakeHandler() *fakeHandler {
	return &fakeHandler{seen: map[[32]byte]bool{}, perPeer: map[string]int{}, blocks: map[[32]byte]bool{}, txs: map[[32]byte]bool{},
		pool: map[types.Hash][]byte{}, blockIDs: map[types.Hash]bool{}}
}

func (h *fakeHandler) judge(from PeerInfo, item []byte) Verdict {
	k := sha256.Sum256(item)
	h.perPeer[fmt.Sprintf("%d/%x", from.ID, k)]++
	if bytes.HasPrefix(item, []byte("bad")) {
		return Rejected
	}
	if h.seen[k] {
		return Known
	}
	h.seen[k] = true
	return Accepted
}

func (h *fakeHandler) HandleTxs(from PeerInfo, txs [][]byte) ([][]byte, Verdict, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.txCalls++
	h.maxBatch = max(h.maxBatch, len(txs))
	var relay [][]byte
	for _, tx := range txs {
		switch h.judge(from, tx) {
		case Rejected:
			return nil, Rejected, fmt.Errorf("bad transaction")
		case Accepted:
			h.txs[sha256.Sum256(tx)] = true
			relay = append(relay, tx)
		}
	}
	if len(relay) == 0 {
		return nil, Known, nil
	}
	return relay, Accepted, nil
}

func (h *fakeHandler) HandleBlock(from PeerInfo, block []byte) (Verdict, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v := h.judge(from, block)
	if v == Accepted {
		h.blocks[sha256.Sum256(block)] = true
		if id, err := types.PeekBlockID(block); err == nil {
			h.blockIDs[id] = true
		}
	}
	if v == Rejected {
		return v, fmt.Errorf("bad block")
	}
	return v, nil
}

func (h *fakeHandler) FillBlock(id types.Hash, ids []types.Hash) ([][]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.blockIDs[id] {
		return nil, true
	}
	txs := make([][]byte, len(ids))
	for i, x := range ids {
		txs[i] = h.pool[x]
	}
	return txs, false
}

// addToPool makes FillBlock find the transactions of block at these indexes.
func (h *fakeHandler) addToPool(t *testing.T, block []byte, indexes ...int) {
	_, _, txs, ids, err := types.SplitBlock(block)
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, i := range indexes {
		h.pool[ids[i]] = txs[i]
	}
}

func (h *fakeHandler) HandleVote(from PeerInfo, vote []byte) (Verdict, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if v := h.judge(from, vote); v == Rejected {
		return v, fmt.Errorf("bad vote")
	}
	return Known, nil
}

func (h *fakeHandler) hasBlock(b []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.blocks[sha256.Sum256(b)]
}

func (h *fakeHandler) txCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.txs)
}

// maxPerPeer is the most times one item arrived from one peer.
func (h *fakeHandler) maxPerPeer() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := 0
	for _, c := range h.perPeer {
		m = max(m, c)
	}
	return m
}

// syncBuf collects log output safely.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testNode struct {
	*Network
	h    *fakeHandler
	c    *fakeChain
	logs *syncBuf
	stop func()
}

// startNode runs a Network on a free loopback port until the test ends.
func startNode(t *testing.T, keyIdx int, mod func(*Config)) *testNode {
	t.Helper()
	logs := &syncBuf{}
	cfg := Config{
		ListenAddr:       "127.0.0.1:0",
		NetworkID:        testNetworkID,
		ChainID:          testChainID,
		Key:              testKey(t, keyIdx),
		NodeType:         "basic",
		Version:          "test",
		HandshakeTimeout: 5 * time.Second,
		RequestTimeout:   5 * time.Second,
		Logger:           hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}),
	}
	if mod != nil {
		mod(&cfg)
	}
	tn := &testNode{h: newFakeHandler(), c: &fakeChain{leader: crypto.Address{7}}, logs: logs}
	n, err := New(cfg, tn.c, tn.h)
	if err != nil {
		t.Fatal(err)
	}
	tn.Network = n
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	var once sync.Once
	tn.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(tn.stop)
	return tn
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (n *testNode) hasPeer(other *testNode) bool {
	for _, p := range n.Peers() {
		if p.ID == other.ID() {
			return true
		}
	}
	return false
}

// link makes a dial b and waits until both see each other.
func link(t *testing.T, a, b *testNode) {
	t.Helper()
	a.AddPeers(b.Addr())
	waitFor(t, "link", func() bool { return a.hasPeer(b) && b.hasPeer(a) })
}

// rawPeer is a hand-driven client for adversarial tests.
type rawPeer struct {
	conn net.Conn // the TLS connection once handshaken, else the TCP one
	tcp  net.Conn
}

// testHello is an honest HEY from key.
func testHello(key *crypto.PrivateKey, networkID uint64, chainID [32]byte, listen string) *wire.Hello {
	addr := key.Address()
	return &wire.Hello{Protocol: wire.ProtocolVersion, NetworkID: networkID, ChainID: chainID[:], NodeAddress: addr[:],
		ListenAddr: listen, HeadID: make([]byte, 32), Version: "raw", NodeType: "basic",
		TimeMs: uint64(time.Now().UnixMilli())}
}

// clientTLS is a TLS client config presenting key's certificate.
func clientTLS(t testing.TB, key *crypto.PrivateKey) *tls.Config {
	t.Helper()
	cert, err := selfSignedCert(key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true}
}

// dialTLS connects to addr and completes TLS as key; no HEY is sent.
func dialTLS(t *testing.T, addr string, key *crypto.PrivateKey) (*rawPeer, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	tc := tls.Client(conn, clientTLS(t, key))
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	err = tc.Handshake()
	tc.SetDeadline(time.Time{})
	return &rawPeer{conn: tc, tcp: conn}, err
}

// dialRaw connects to addr over TLS as key, sends hello and returns the
// answer header ("" if the connection was closed instead).
func dialRaw(t *testing.T, addr string, key *crypto.PrivateKey, hello *wire.Hello) (*rawPeer, string) {
	t.Helper()
	rp, err := dialTLS(t, addr, key)
	if err != nil {
		return rp, ""
	}
	h, body, err := wire.Encode(hello)
	if err != nil {
		t.Fatal(err)
	}
	if err := wire.WriteFrame(rp.conn, h, body); err != nil {
		return rp, ""
	}
	rp.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	hdr, _, err := wire.ReadFrame(rp.conn, wire.DefaultMaxFrame)
	rp.conn.SetReadDeadline(time.Time{})
	if err != nil {
		return rp, ""
	}
	return rp, hdr
}

// joinRaw connects to addr as key with an honest HEY and fails the test
// unless the node answers ACK.
func joinRaw(t *testing.T, addr string, key *crypto.PrivateKey) *rawPeer {
	t.Helper()
	rp, ack := dialRaw(t, addr, key, testHello(key, testNetworkID, testChainID, ""))
	if ack != wire.HdrHelloAck {
		t.Fatalf("%s: handshake answer %q", key.Address(), ack)
	}
	return rp
}

// dialPlain connects to addr without TLS.
func dialPlain(t *testing.T, addr string) *rawPeer {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawPeer{conn: conn, tcp: conn}
}

func (rp *rawPeer) send(t *testing.T, m wire.Message) {
	t.Helper()
	h, body, err := wire.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := wire.WriteFrame(rp.conn, h, body); err != nil {
		t.Fatal(err)
	}
}

// waitClosed drains the connection until the other side closes it.
func (rp *rawPeer) waitClosed(t *testing.T) {
	t.Helper()
	rp.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64<<10)
	for {
		if _, err := rp.conn.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("connection was not closed")
			}
			return
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// broadcastWhole sends block whole (BLK) to every peer that does not know
// it, as another implementation may: this node only ever sends blocks
// compact.
func (n *testNode) broadcastWhole(block []byte) {
	h, body, err := wire.Encode(&wire.Block{Block: block})
	if err != nil {
		panic(err)
	}
	key := n.blockKey(block)
	for _, p := range n.allPeers() {
		if p.markKnown(key) {
			p.enqueue(h, body)
		}
	}
}
