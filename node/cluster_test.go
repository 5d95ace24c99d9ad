package node

// The cluster harness runs several complete nodes in one process, each on
// its own data directory and address, so tests can stop, restart,
// partition and heal them and check the invariants users rely on
// (RELIABILITY.md) against their chains. Nodes talk over an in-memory
// network (package p2p/memnet), one per cluster, where each node is a host
// named after it; a few tests use newTCPCluster so that the real transport
// stays covered end to end.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"ccoin/ccoin/chain"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/crypto/cryptotest"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/p2p"
	"ccoin/ccoin/p2p/memnet"
	"ccoin/ccoin/types"
)

// Keys: 0-2 validators, 3-8 users, 9 an outsider (neither miner nor funded).
const (
	nValidators = 3
	nUsers      = 6
	nTestKeys   = nValidators + nUsers + 1
)

// allKeys returns the test binary's RSA keys, generated once in parallel
// (RSA-2048 generation is slow, more so under -race).
func allKeys(t testing.TB) []*crypto.PrivateKey { return cryptotest.Keys(t, nTestKeys) }

func validatorKeys(t testing.TB) []*crypto.PrivateKey { return allKeys(t)[:nValidators] }
func userKeys(t testing.TB) []*crypto.PrivateKey {
	return allKeys(t)[nValidators : nValidators+nUsers]
}
func outsiderKey(t testing.TB) *crypto.PrivateKey { return allKeys(t)[nTestKeys-1] }

// netSpec describes a test network's genesis.
type netSpec struct {
	NetworkID  uint64
	Timestamp  uint64 // unix seconds; 0 = now
	IntervalS  float64
	Difficulty uint64
	Reward     uint64
	MaxBound   uint64
	Balance    uint64 // per user key
	Miners     []*crypto.PrivateKey
	Users      []*crypto.PrivateKey
}

func defaultSpec(t testing.TB) netSpec {
	return netSpec{NetworkID: 4242, IntervalS: 0.3, Difficulty: 1, Reward: 50, MaxBound: 500,
		Balance: 1_000_000_000, Miners: validatorKeys(t), Users: userKeys(t)}
}

// makeGenesis marshals a genesis.File so the raw JSON stored by Init and the
// parsed genesis agree.
func makeGenesis(t testing.TB, s netSpec) ([]byte, *genesis.Genesis) {
	t.Helper()
	f := genesis.File{NetworkID: s.NetworkID, Timestamp: s.Timestamp, MaxPeers: 16}
	if f.Timestamp == 0 {
		f.Timestamp = uint64(time.Now().Unix())
	}
	f.BlockMining = genesis.BlockMining{Interval: s.IntervalS, MaxBound: s.MaxBound, MinBound: 0, Reward: s.Reward,
		Difficulty: s.Difficulty, AllowEmpty: true, PlaceholderData: genesis.Placeholder{Kind: "rnd", N: 16}}
	f.GenesisBlock.Difficulty = 1
	f.Alloc = map[string]genesis.Alloc{}
	for _, m := range s.Miners {
		f.Miners = append(f.Miners, m.Address().String())
	}
	for _, u := range s.Users {
		f.Alloc[u.Address().String()] = genesis.Alloc{Balance: s.Balance}
	}
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	g, err := genesis.Parse(raw)
	if err != nil {
		t.Fatalf("genesis: %v", err)
	}
	return raw, g
}

// logSink collects every node's log for the test; it is printed when the
// test fails, or streamed when CCOIN_TEST_LOG is set.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const maxLogBytes = 8 << 20

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buf.Len()+len(p) > maxLogBytes {
		// Keep the newest half: the end of a failure is what explains it.
		tail := append([]byte(nil), s.buf.Bytes()[s.buf.Len()/2:]...)
		s.buf.Reset()
		s.buf.WriteString("... (older log lines dropped)\n")
		s.buf.Write(tail)
	}
	return s.buf.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// cluster is a set of in-process nodes on one genesis.
type cluster struct {
	t     *testing.T
	raw   []byte
	g     *genesis.Genesis
	base  string // parent of the nodes' data directories
	nodes []*tnode
	sink  *logSink
	out   io.Writer
	level hclog.Level
	mem   *memnet.Network // what the nodes talk over; nil: TCP on loopback

	mu    sync.Mutex
	group map[crypto.Address]int // partition group per node address; absent = 0
}

// tnode is one node of a cluster; it survives restarts (same directory,
// key and port).
type tnode struct {
	c    *cluster
	name string
	key  *crypto.PrivateKey
	typ  string
	dir  string
	port int
	boot []string
	now  func() time.Time // optional clock override

	mu     sync.Mutex
	n      *Node
	cancel context.CancelFunc
	done   chan error
	starts int
}

// memPort is the port every node of an in-memory cluster listens on: each
// node is a host of its own there.
const memPort = 7000

// newCluster prepares a network over memnet: the genesis, and an
// initialised data directory and an address per node. Nodes start with
// start().
func newCluster(t *testing.T, s netSpec) *cluster {
	t.Helper()
	c := newTCPCluster(t, s)
	c.mem = memnet.New(1)
	return c
}

// newTCPCluster is newCluster with the nodes on loopback TCP ports.
func newTCPCluster(t *testing.T, s netSpec) *cluster {
	t.Helper()
	raw, g := makeGenesis(t, s)
	// The directory is made before the cleanup below is registered, so the
	// nodes stop before their directories are removed (cleanups run LIFO).
	c := &cluster{t: t, raw: raw, g: g, base: t.TempDir(), sink: &logSink{}, group: map[crypto.Address]int{}, level: hclog.Warn}
	c.out = c.sink
	if lv := os.Getenv("CCOIN_TEST_LOG"); lv != "" {
		c.level = hclog.LevelFromString(lv)
		c.out = os.Stderr
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.stop()
		}
		if t.Failed() && c.out == c.sink {
			t.Logf("node logs:\n%s", c.sink.String())
		}
	})
	return c
}

// freePort reserves a loopback port number. Another process could take it
// before the node binds it, which on a test machine does not happen in
// practice; knowing every port in advance lets each node list all the
// others as bootstrap peers, so restarts reconnect in both directions.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func initDataDir(t testing.TB, dir string, g *genesis.Genesis, raw []byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := chain.OpenDB(ChainDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := chain.Init(db, g, raw); err != nil {
		t.Fatal(err)
	}
}

// add declares a node; all nodes added before the first start() know each
// other as bootstrap peers.
func (c *cluster) add(name, typ string, key *crypto.PrivateKey) *tnode {
	c.t.Helper()
	port := memPort
	if c.mem == nil {
		port = freePort(c.t)
	}
	tn := &tnode{c: c, name: name, key: key, typ: typ, dir: filepath.Join(c.base, name), port: port}
	initDataDir(c.t, tn.dir, c.g, c.raw)
	for _, o := range c.nodes {
		o.boot = append(o.boot, tn.addr())
		tn.boot = append(tn.boot, o.addr())
	}
	c.nodes = append(c.nodes, tn)
	return tn
}

// validators adds one validator node per genesis miner key, named A, B, C...
func (c *cluster) validators(keys []*crypto.PrivateKey) []*tnode {
	var out []*tnode
	for i, k := range keys {
		out = append(out, c.add(string(rune('A'+i)), TypeValidator, k))
	}
	return out
}

// addr is the address the node listens on: its memnet host, or loopback.
func (tn *tnode) addr() string {
	host := "127.0.0.1"
	if tn.c.mem != nil {
		host = tn.name
	}
	return net.JoinHostPort(host, strconv.Itoa(tn.port))
}

// accept is the partition policy: peers in another group are refused.
func (c *cluster) accept(self crypto.Address) func(p2p.PeerInfo) error {
	return func(p p2p.PeerInfo) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.group[self] != c.group[p.NodeAddress] {
			return errors.New("partitioned by the test")
		}
		return nil
	}
}

// partition puts each list of nodes in its own group and drops every
// connection across groups; later handshakes across groups are refused.
func (c *cluster) partition(groups ...[]*tnode) {
	c.mu.Lock()
	c.group = map[crypto.Address]int{}
	for i, g := range groups {
		for _, n := range g {
			c.group[n.key.Address()] = i + 1
		}
	}
	c.mu.Unlock()
	for _, tn := range c.nodes {
		n := tn.node()
		if n == nil {
			continue
		}
		for _, p := range n.Network().Peers() {
			if c.accept(tn.key.Address())(p) != nil {
				n.Network().DisconnectPeer(p.ID, "test partition")
			}
		}
	}
}

func (c *cluster) heal() {
	c.mu.Lock()
	c.group = map[crypto.Address]int{}
	c.mu.Unlock()
}

// start runs the node (again) on its directory and port.
func (tn *tnode) start() { tn.c.t.Helper(); tn.startWith(nil) }

// startWith is start with the node options changed by mod.
func (tn *tnode) startWith(mod func(*Options)) {
	t := tn.c.t
	t.Helper()
	tn.mu.Lock()
	defer tn.mu.Unlock()
	if tn.n != nil {
		t.Fatalf("%s already running", tn.name)
	}
	cfg := DefaultConfig()
	cfg.DiscoveryService.Disabled = true
	cfg.HTTP.Disabled = true
	cfg.P2P.Host = "127.0.0.1"
	cfg.P2P.BootstrapPeers = slices.Clone(tn.boot)
	tn.starts++
	log := hclog.New(&hclog.LoggerOptions{Name: fmt.Sprintf("%s#%d", tn.name, tn.starts), Level: tn.c.level,
		Output: tn.c.out, TimeFormat: "15:04:05.000"})
	opts := Options{Config: cfg, DataDir: tn.dir, Type: tn.typ, P2PPort: tn.port, HTTPPort: 0, Key: tn.key,
		Logger: log, Now: tn.now, BootTimeout: 700 * time.Millisecond, AcceptPeer: tn.c.accept(tn.key.Address())}
	if tn.c.mem != nil {
		opts.Transport = tn.c.mem.Host(tn.name)
	}
	if mod != nil {
		mod(&opts)
	}
	n, err := New(opts)
	if err != nil {
		t.Fatalf("start %s: %v", tn.name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	tn.n, tn.cancel, tn.done = n, cancel, done
}

// stop cancels the node and waits until Run returned (database closed).
func (tn *tnode) stop() {
	tn.mu.Lock()
	n, cancel, done := tn.n, tn.cancel, tn.done
	tn.n = nil
	tn.mu.Unlock()
	if n == nil {
		return
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			tn.c.t.Errorf("%s: Run: %v", tn.name, err)
		}
	case <-time.After(30 * time.Second):
		tn.c.t.Errorf("%s: Run did not return 30 s after cancel", tn.name)
	}
}

// node is the running node, or nil while stopped.
func (tn *tnode) node() *Node {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return tn.n
}

// with runs f on the running node while holding it, so a concurrent stop
// waits and the database stays open; it reports whether the node ran.
func (tn *tnode) with(f func(n *Node)) bool {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	if tn.n == nil {
		return false
	}
	f(tn.n)
	return true
}

// N is the running node; the test fails if it is stopped.
func (tn *tnode) N() *Node {
	n := tn.node()
	if n == nil {
		tn.c.t.Fatalf("%s is not running", tn.name)
	}
	return n
}

func (tn *tnode) head() (*types.Header, types.Hash) { return tn.N().Chain().Head() }
func (tn *tnode) height() uint64                    { h, _ := tn.head(); return h.Number }
func (tn *tnode) finalized() uint64 {
	h, _ := tn.N().Chain().Finalized()
	return h.Number
}

// interval is one slot.
func (c *cluster) interval() time.Duration { return time.Duration(c.g.IntervalMs) * time.Millisecond }

// slots converts a duration into slots.
func (c *cluster) slots(d time.Duration) float64 { return float64(d) / float64(c.interval()) }

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// running lists the nodes that run now.
func (c *cluster) running(nodes []*tnode) []*tnode {
	var out []*tnode
	for _, n := range nodes {
		if n.node() != nil {
			out = append(out, n)
		}
	}
	return out
}

// diverge compares canonical ids of the nodes at every height up to the
// lowest head; it returns "" when they agree, else the first difference.
func diverge(nodes []*tnode) string {
	low := uint64(1 << 63)
	for _, n := range nodes {
		low = min(low, n.height())
	}
	for h := uint64(1); h <= low; h++ {
		var first types.Hash
		for i, n := range nodes {
			id, err := n.N().Chain().CanonicalID(h)
			if err != nil {
				// The head moved under us (a reorg in progress): report, retry.
				return fmt.Sprintf("%s: height %d: %v", n.name, h, err)
			}
			if i == 0 {
				first = id
			} else if id != first {
				return fmt.Sprintf("height %d: %s has %s, %s has %s", h, nodes[0].name, short(first), n.name, short(id))
			}
		}
	}
	return ""
}

func short(h types.Hash) string { return h.String()[:12] }

// waitConverged waits until all given nodes agree on every height up to the
// lowest head and that head is at least minHeight.
func waitConverged(t testing.TB, timeout time.Duration, minHeight uint64, nodes ...*tnode) {
	t.Helper()
	var last string
	deadline := time.Now().Add(timeout)
	for {
		low := uint64(1 << 63)
		for _, n := range nodes {
			low = min(low, n.height())
		}
		last = diverge(nodes)
		if last == "" && low >= minHeight {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes did not converge within %v (lowest head %d, want >= %d): %s", timeout, low, minHeight, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitPeers waits until every node has all the others as peers.
func waitPeers(t testing.TB, nodes ...*tnode) {
	t.Helper()
	waitFor(t, 20*time.Second, "full mesh", func() bool {
		for _, n := range nodes {
			if len(n.N().Network().Peers()) < len(nodes)-1 {
				return false
			}
		}
		return true
	})
}

// canonicalBlocks returns the node's canonical blocks from height from to its head.
func canonicalBlocks(t testing.TB, n *Node, from uint64) []*types.Block {
	t.Helper()
	head, _ := n.Chain().Head()
	var out []*types.Block
	for h := from; h <= head.Number; h++ {
		b, err := n.Chain().BlockByNumber(h)
		if err != nil {
			if errors.Is(err, chain.ErrNotFound) {
				break // a reorg shortened the chain meanwhile
			}
			t.Fatalf("block %d: %v", h, err)
		}
		out = append(out, b)
	}
	return out
}

// transfer signs a transaction on the cluster's chain.
func (c *cluster) transfer(from *crypto.PrivateKey, to crypto.Address, nonce, amount uint64) *types.Transaction {
	return signTransfer(c.t, c.g.ChainID, from, to, nonce, amount)
}

func signTransfer(t testing.TB, chainID types.Hash, from *crypto.PrivateKey, to crypto.Address, nonce, amount uint64) *types.Transaction {
	tx := &types.Transaction{ChainID: chainID, Nonce: nonce, From: from.Address(), To: to, Amount: amount,
		Time: uint64(time.Now().UnixMilli())}
	if err := tx.Sign(from); err != nil {
		t.Fatal(err)
	}
	return tx
}

// checkSupply checks that the accounts at the node's head add up to the
// genesis allocation plus one reward per block after genesis, and that no
// balance exceeds the supply (an underflow would show as a huge balance).
func checkSupply(t testing.TB, n *Node) {
	t.Helper()
	head, _ := n.Chain().Head()
	g := n.Genesis()
	want := g.TotalAlloc() + g.File.BlockMining.Reward*(head.Number-1)
	var sum uint64
	var after *crypto.Address
	for {
		addrs, accs, more, err := n.Chain().AccountsAt(head.StateRoot, after, 1000)
		if err != nil {
			t.Fatalf("accounts at %d: %v", head.Number, err)
		}
		for i, a := range accs {
			if a.Balance > want {
				t.Errorf("account %s holds %d, more than the whole supply %d", addrs[i], a.Balance, want)
			}
			sum += a.Balance
		}
		if !more || len(addrs) == 0 {
			break
		}
		after = &addrs[len(addrs)-1]
	}
	if sum != want {
		t.Errorf("total supply at height %d is %d, want genesis alloc %d + reward %d x %d = %d",
			head.Number, sum, g.TotalAlloc(), g.File.BlockMining.Reward, head.Number-1, want)
	}
}

// monitor samples every running node of a cluster in the background and
// records violations of the invariants that must hold at every moment: a
// finalized block is never replaced (per node, across restarts, and no two
// nodes finalize different blocks at one height) and a node's height never
// goes backwards.
type monitor struct {
	c      *cluster
	stopCh chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	final   map[uint64]types.Hash            // finalized id per height, from any node
	byNode  map[string]map[uint64]types.Hash // what each node has finalized
	heads   map[string]uint64
	errs    []string
	samples int
}

func (c *cluster) monitor() *monitor {
	m := &monitor{c: c, stopCh: make(chan struct{}), final: map[uint64]types.Hash{},
		byNode: map[string]map[uint64]types.Hash{}, heads: map[string]uint64{}}
	m.wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			for _, tn := range c.nodes {
				tn.with(m.sample(tn.name))
			}
			select {
			case <-m.stopCh:
				return
			case <-t.C:
			}
		}
	})
	c.t.Cleanup(m.stop)
	return m
}

func (m *monitor) fail(format string, args ...any) {
	if len(m.errs) < 20 {
		m.errs = append(m.errs, fmt.Sprintf(format, args...))
	}
}

func (m *monitor) sample(name string) func(n *Node) {
	return func(n *Node) {
		head, _ := n.Chain().Head()
		fin, finID := n.Chain().Finalized()
		m.mu.Lock()
		defer m.mu.Unlock()
		m.samples++
		if head.Number < m.heads[name] {
			m.fail("%s: height went back from %d to %d", name, m.heads[name], head.Number)
		}
		m.heads[name] = max(m.heads[name], head.Number)
		mine := m.byNode[name]
		if mine == nil {
			mine = map[uint64]types.Hash{}
			m.byNode[name] = mine
		}
		if prev, ok := mine[fin.Number]; ok && prev != finID {
			m.fail("%s: finalized block at %d changed from %s to %s", name, fin.Number, short(prev), short(finID))
		}
		for h := uint64(1); h <= fin.Number; h++ {
			id, err := n.Chain().CanonicalID(h)
			if err != nil {
				m.fail("%s: finalized height %d has no canonical block: %v", name, h, err)
				continue
			}
			if prev, ok := mine[h]; ok && prev != id {
				m.fail("%s: finalized block at %d replaced: %s -> %s", name, h, short(prev), short(id))
			}
			mine[h] = id
			if g, ok := m.final[h]; ok && g != id {
				m.fail("%s finalized %s at %d but another node finalized %s", name, short(id), h, short(g))
			} else if !ok {
				m.final[h] = id
			}
		}
	}
}

func (m *monitor) stop() {
	select {
	case <-m.stopCh:
	default:
		close(m.stopCh)
		m.wg.Wait()
	}
}

// check stops the monitor and reports what it saw.
func (m *monitor) check(t testing.TB) {
	t.Helper()
	m.stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.errs {
		t.Error("invariant: " + e)
	}
	var names []string
	for n := range m.heads {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s head %d, %d finalized heights", n, m.heads[n], len(m.byNode[n])))
	}
	t.Logf("monitor: %d samples; %s", m.samples, strings.Join(parts, "; "))
}

// percentile of sorted float values.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	i := int(p * float64(len(s)-1))
	return s[i]
}
