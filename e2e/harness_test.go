//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
)

const (
	project   = "ccoine2e"
	image     = "ccoin:e2e"
	portBase  = "281" // node N's API on 127.0.0.1:2810N
	memLimit  = 400 << 20
	nodeCount = 4
)

// node is one container of the testnet as the test sees it.
type node struct {
	name      string // compose service, also the in-network host name
	typ       string
	address   string
	url       string
	container string

	mu   sync.Mutex
	down bool // the test has faulted it: the load avoids it
}

func (n *node) setDown(v bool) { n.mu.Lock(); n.down = v; n.mu.Unlock() }
func (n *node) isDown() bool   { n.mu.Lock(); defer n.mu.Unlock(); return n.down }

// testnet drives the compose project and talks to its nodes.
type testnet struct {
	t        *testing.T
	root     string
	work     string
	env      []string
	network  string
	nodes    []*node
	chainID  types.Hash
	faucet   *crypto.PrivateKey
	interval time.Duration
	reward   uint64
	alloc    uint64 // genesis allocation, summed
	hc       *http.Client
}

// requireDocker skips the test unless a Docker engine and docker-compose answer.
func requireDocker(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("e2e: docker is not installed; skipping the Docker testnet suite")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("e2e: the Docker engine does not answer (%v: %s); skipping", err, bytes.TrimSpace(out))
	}
	if composeCmd() == nil {
		t.Skip("e2e: neither 'docker compose' nor 'docker-compose' is available; skipping")
	}
}

// composeCmd is the compose invocation this machine has.
func composeCmd() []string {
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}
	}
	return nil
}

// startTestnet builds everything and brings a fresh testnet up; the
// cleanup saves logs on failure and tears it all down.
func startTestnet(t *testing.T) *testnet {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tn := &testnet{t: t, root: root, work: t.TempDir(), hc: &http.Client{Timeout: 5 * time.Second},
		network: project + "_testnet"}
	tn.env = append(os.Environ(), "COMPOSE_PROJECT_NAME="+project, "CCOIN_IMAGE="+image, "CCOIN_PORT_BASE="+portBase,
		"CCOIN_INTERVAL=1")

	bin := os.Getenv("CCOIN_E2E_BINARY")
	ctxDir := filepath.Join(tn.work, "image")
	if err := os.MkdirAll(filepath.Join(ctxDir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if bin == "" {
		t.Log("building the static binary")
		bin = filepath.Join(ctxDir, "bin", "ccoin")
		cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/ccoin")
		cmd.Dir, cmd.Env = root, append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	} else if err := copyFile(bin, filepath.Join(ctxDir, "bin", "ccoin")); err != nil {
		t.Fatal(err)
	}
	t.Log("building the image", image)
	tn.must("docker", "build", "-q", "-t", image, "-f", filepath.Join(root, "Dockerfile"), ctxDir)

	tn.compose("down", "-v", "--remove-orphans") // a leftover from an aborted run
	t.Cleanup(tn.teardown)
	if _, err := tn.compose("up", "-d"); err != nil {
		t.Fatalf("compose up: %v", err)
	}
	for i := 1; i <= nodeCount; i++ {
		n := &node{name: fmt.Sprintf("node%d", i), url: fmt.Sprintf("http://127.0.0.1:%s0%d", portBase, i)}
		id, err := tn.compose("ps", "-q", n.name)
		if err != nil || id == "" {
			t.Fatalf("container of %s: %v", n.name, err)
		}
		n.container = id
		tn.nodes = append(tn.nodes, n)
	}
	tn.loadManifest()
	if _, err := tn.waitRecovered(context.Background(), 90*time.Second, 0); err != nil {
		t.Fatalf("testnet did not come up: %v", err)
	}
	return tn
}

func (tn *testnet) loadManifest() {
	t := tn.t
	init, err := tn.compose("ps", "-q", "init")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tn.work, "testnet")
	os.MkdirAll(dir, 0o700)
	for _, f := range []string{"devnet.json", "genesis.json", "faucet"} {
		tn.must("docker", "cp", init+":/testnet/"+f, filepath.Join(dir, f))
	}
	var m struct {
		ChainID string `json:"chain_id"`
		Faucet  string `json:"faucet_address"`
		Nodes   []struct {
			Name, Type, Address string
		} `json:"nodes"`
	}
	readJSON(t, filepath.Join(dir, "devnet.json"), &m)
	var g struct {
		BlockMining struct {
			Interval float64 `json:"interval"`
			Reward   uint64  `json:"reward"`
		} `json:"block_mining"`
		Alloc map[string]struct {
			Balance uint64 `json:"balance"`
		} `json:"alloc"`
	}
	readJSON(t, filepath.Join(dir, "genesis.json"), &g)
	tn.interval = time.Duration(g.BlockMining.Interval * float64(time.Second))
	tn.reward = g.BlockMining.Reward
	for _, a := range g.Alloc {
		tn.alloc += a.Balance
	}
	if tn.chainID, err = types.ParseHash(m.ChainID); err != nil {
		t.Fatal(err)
	}
	for i, mn := range m.Nodes {
		if i < len(tn.nodes) && tn.nodes[i].name == mn.Name {
			tn.nodes[i].typ, tn.nodes[i].address = mn.Type, mn.Address
		}
	}
	addr, err := crypto.ParseAddress(m.Faucet)
	if err != nil {
		t.Fatal(err)
	}
	if tn.faucet, err = crypto.LoadKey(filepath.Join(dir, "faucet"), addr, nil); err != nil {
		t.Fatalf("faucet key: %v", err)
	}
}

// teardown saves the logs (always to CCOIN_E2E_LOGS, and a tail into the
// test log on failure) and removes the project unless CCOIN_E2E_KEEP is set.
func (tn *testnet) teardown() {
	if dir := os.Getenv("CCOIN_E2E_LOGS"); dir != "" {
		os.MkdirAll(dir, 0o755)
		for _, s := range []string{"discovery", "node1", "node2", "node3", "node4"} {
			out, _ := tn.compose("logs", "--no-color", "--timestamps", s)
			os.WriteFile(filepath.Join(dir, s+".log"), []byte(out), 0o644)
		}
		tn.t.Logf("container logs saved in %s", dir)
	}
	if tn.t.Failed() {
		for _, s := range []string{"node1", "node2", "node3", "node4"} {
			out, _ := tn.compose("logs", "--no-color", "--tail", "40", s)
			tn.t.Logf("---- last log lines of %s ----\n%s", s, out)
		}
	}
	if os.Getenv("CCOIN_E2E_KEEP") != "" {
		tn.t.Logf("CCOIN_E2E_KEEP set: leaving compose project %s running", project)
		return
	}
	if out, err := tn.compose("down", "-v", "--remove-orphans", "-t", "5"); err != nil {
		tn.t.Logf("compose down: %v\n%s", err, out)
	}
}

func (tn *testnet) compose(args ...string) (string, error) {
	c := composeCmd()
	c = append(c, "-f", filepath.Join(tn.root, "docker-compose.yml"))
	return tn.run(append(c, args...)...)
}

func (tn *testnet) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env, cmd.Dir = tn.env, tn.root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return strings.TrimSpace(string(out)), nil
}

func (tn *testnet) must(args ...string) string {
	tn.t.Helper()
	out, err := tn.run(args...)
	if err != nil {
		tn.t.Fatal(err)
	}
	return out
}

// get fetches a JSON document; an API error comes back as *apiError.
func (tn *testnet) get(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	return tn.do(req, out)
}

func (tn *testnet) post(ctx context.Context, url string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return tn.do(req, out)
}

type apiError struct {
	Status int
	Code   string
	Msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Msg) }

func (tn *testnet) do(req *http.Request, out any) error {
	resp, err := tn.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		json.Unmarshal(body, &e)
		return &apiError{Status: resp.StatusCode, Code: e.Error.Code, Msg: e.Error.Message}
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return dec.Decode(out)
}

func isCode(err error, code string) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Code == code
}

// status is the part of GET /status the suite reads.
type status struct {
	Height          uint64 `json:"height"`
	Head            string `json:"head"`
	FinalizedHeight uint64 `json:"finalized_height"`
	Finalized       string `json:"finalized"`
	Sync            string `json:"sync"`
	Peers           int    `json:"peers"`
	Slot            uint64 `json:"slot"`
}

func (tn *testnet) status(ctx context.Context, n *node) (*status, error) {
	var s status
	if err := tn.get(ctx, n.url+"/status", &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func (tn *testnet) ready(ctx context.Context, n *node) bool {
	return tn.get(ctx, n.url+"/readyz", nil) == nil
}

// blockRef is a block as the listing shows it.
type blockRef struct {
	ID           string `json:"id"`
	Number       uint64 `json:"number"`
	Finalized    bool   `json:"finalized"`
	Slot         uint64 `json:"slot"`
	Sealer       string `json:"sealer"`
	Transactions []struct {
		ID string `json:"id"`
	} `json:"transactions"`
}

// blocks lists canonical blocks [from, to] of one node.
func (tn *testnet) blocks(ctx context.Context, n *node, from, to uint64, txs bool) ([]blockRef, error) {
	var all []blockRef
	for from <= to {
		limit := min(to-from+1, 100)
		var page struct {
			Blocks []blockRef `json:"blocks"`
		}
		if err := tn.get(ctx, fmt.Sprintf("%s/blocks?from=%d&limit=%d&txs=%t", n.url, from, limit, txs), &page); err != nil {
			return nil, err
		}
		if len(page.Blocks) == 0 {
			return nil, fmt.Errorf("%s: no blocks from %d (asked up to %d)", n.name, from, to)
		}
		for _, b := range page.Blocks {
			if b.Number != from {
				return nil, fmt.Errorf("%s: listing from %d gave block %d", n.name, from, b.Number)
			}
			all = append(all, b)
			from++
			if from > to {
				break
			}
		}
	}
	return all, nil
}

// docker commands on one node's container.
func (tn *testnet) dockerOn(n *node, args ...string) {
	tn.t.Helper()
	full := append([]string{"docker"}, args...)
	full = append(full, n.container)
	tn.must(full...)
}

// memory reads `docker stats` for every container of the project.
func (tn *testnet) memory() (map[string]float64, error) {
	ids := []string{"stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}"}
	for _, n := range tn.nodes {
		ids = append(ids, n.container)
	}
	out, err := tn.run(append([]string{"docker"}, ids...)...)
	if err != nil {
		return nil, err
	}
	res := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		name, usage, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		used, _, _ := strings.Cut(usage, " / ")
		b, err := parseBytes(strings.TrimSpace(used))
		if err != nil {
			return nil, fmt.Errorf("docker stats %q: %w", line, err)
		}
		res[name] = b
	}
	return res, nil
}

func parseBytes(s string) (float64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}, {"B", 1}}
	for _, u := range units {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f * u.mult, err
		}
	}
	return 0, fmt.Errorf("unknown unit in %q", s)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}
