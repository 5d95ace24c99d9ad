package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run the real ccoin binary, as a user would.

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ccoin-bin")
	if err != nil {
		panic(err)
	}
	binPath = filepath.Join(dir, "ccoin")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build ccoin: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func ccoin(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(binPath, args...).CombinedOutput()
	return string(out), err
}

var addrRe = regexp.MustCompile(`^Created account with address=([0-9a-f]{40})\n$`)

func createAccount(t *testing.T, dir string) string {
	t.Helper()
	out, err := ccoin(t, "create-account", "--datadir", dir)
	if err != nil {
		t.Fatalf("create-account: %v\n%s", err, out)
	}
	m := addrRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("create-account printed %q", out)
	}
	info, err := os.Stat(filepath.Join(dir, "keys", m[1], "id_rsa"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("id_rsa missing or not 0600: %v", err)
	}
	return m[1]
}

func writeGenesis(t *testing.T, path string, miner, rich string, network int) {
	t.Helper()
	g := fmt.Sprintf(`{"network_id": %d, "timestamp": %d, "miners": [%q],
 "block_mining": {"interval": 0.5, "max_bound": 1000, "min_bound": 0, "reward": 100, "difficulty": 1, "allow_empty": true},
 "genesis_block": {"difficulty": 2}, "alloc": {%q: {"balance": 1000000}}}`, network, time.Now().Unix()-10, miner, rich)
	if err := os.WriteFile(path, []byte(g), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestInitcIdempotentAndRefusesOtherGenesis(t *testing.T) {
	dir := t.TempDir()
	addr := createAccount(t, dir)
	g1, g2 := filepath.Join(dir, "g1.json"), filepath.Join(dir, "g2.json")
	writeGenesis(t, g1, addr, addr, 5)
	writeGenesis(t, g2, addr, addr, 6)
	out, err := ccoin(t, "initc", "--genesis", g1, "--datadir", dir)
	if err != nil || !regexp.MustCompile(`^Genesis block has been mined: nonce=\d+, pow_hash=00[0-9a-f]{62}\n$`).MatchString(out) {
		t.Fatalf("initc: %v %q", err, out)
	}
	if out2, err := ccoin(t, "initc", "--genesis", g1, "--datadir", dir); err != nil {
		t.Fatalf("second initc with the same file must succeed: %v %s", err, out2)
	}
	out3, err := ccoin(t, "initc", "--genesis", g2, "--datadir", dir)
	if err == nil || !strings.Contains(out3, "different genesis") {
		t.Fatalf("initc with another genesis must fail clearly, got %v %q", err, out3)
	}
	if out, err := ccoin(t, "initc", "--genesis", "/nonexistent.json", "--datadir", dir); err == nil {
		t.Fatalf("missing genesis file accepted: %s", out)
	}
	if out, err := ccoin(t, "initc", "--genesis", "../../../shared/prototype/genesis.json", "--datadir", t.TempDir()); err != nil {
		if _, statErr := os.Stat("../../../shared/prototype/genesis.json"); statErr == nil {
			t.Fatalf("the prototype's genesis must load: %v %s", err, out)
		}
	}
}

func TestBadFlagsAndConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"app": {"base_path": 7}}`), 0o644)
	for _, args := range [][]string{
		{"nosuchcommand"},
		{"cnode", "-t", "miner", "--datadir", dir},
		{"cnode", "-c", bad},
		{"cnode", "--datadir", dir},
		{"initc", "--bogus"},
	} {
		if out, err := ccoin(t, args...); err == nil {
			t.Errorf("%v succeeded: %s", args, out)
		}
	}
}

func TestValidatorMustBeMiner(t *testing.T) {
	dir := t.TempDir()
	addr := createAccount(t, dir)
	g := filepath.Join(dir, "g.json")
	writeGenesis(t, g, "34268774b426751444f6346517a72676631302f6", addr, 5)
	if out, err := ccoin(t, "initc", "--genesis", g, "--datadir", dir); err != nil {
		t.Fatal(err, out)
	}
	out, err := ccoin(t, "cnode", "-t", "validator", "-p", "0", "--datadir", dir)
	if err == nil || !strings.Contains(out, "not a genesis miner") {
		t.Fatalf("want a clear refusal, got %v %q", err, out)
	}
}

// TestNodeWalkthrough starts a real validator and walks the API like the
// README's curl commands: a token-authorised transfer goes pending,
// included, finalized; the block, the transaction and both balances agree.
func TestNodeWalkthrough(t *testing.T) {
	dir := t.TempDir()
	addr := createAccount(t, dir)
	g := filepath.Join(dir, "g.json")
	writeGenesis(t, g, addr, addr, 9)
	if out, err := ccoin(t, "initc", "--genesis", g, "--datadir", dir); err != nil {
		t.Fatal(err, out)
	}
	cfg := filepath.Join(dir, "ccoin.json")
	os.WriteFile(cfg, []byte(`{"app": {"base_path": "`+dir+`"}, "discovery_service": {"disabled": true}}`), 0o644)
	cmd := exec.Command(binPath, "cnode", "-c", cfg, "-t", "validator", "-p", "0", "--http-port", "0")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	logs := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case logs <- sc.Text():
			default:
			}
		}
		close(logs)
	}()
	var base string
	deadline := time.After(20 * time.Second)
	sawChainNode := false
	for base == "" {
		select {
		case l, ok := <-logs:
			if !ok {
				t.Fatal("node exited early")
			}
			if strings.Contains(l, "ChainNode starting on ") {
				sawChainNode = true
			}
			if m := regexp.MustCompile(`HTTP API ENDPOINT Started got up and listening on port: (\d+)`).FindStringSubmatch(l); m != nil {
				base = "http://127.0.0.1:" + m[1]
			}
		case <-deadline:
			t.Fatal("no HTTP API start line")
		}
	}
	if !sawChainNode {
		t.Fatal("no ChainNode start line before the API line")
	}
	go func() {
		for range logs {
		}
	}()

	get := func(path string, v any) int {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if v != nil {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("GET %s: %v: %s", path, err, b)
			}
		}
		return resp.StatusCode
	}
	waitFor := func(what string, f func() bool) {
		t.Helper()
		end := time.Now().Add(30 * time.Second)
		for !f() {
			if time.Now().After(end) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("ready", func() bool { return get("/readyz", nil) == 200 })

	token, err := os.ReadFile(filepath.Join(dir, "api-token"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(filepath.Join(dir, "api-token"))
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v", info.Mode().Perm())
	}
	to := "00112233445566778899aabbccddeeff00112233"
	body := `{"sendto_address":"` + to + `","amount":250,"data":"walkthrough"}`
	post := func(auth string) (*http.Response, []byte) {
		req, _ := http.NewRequest("POST", base+"/"+addr+"/txn/", strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	for _, auth := range []string{"", "Bearer wrong", "Basic " + strings.TrimSpace(string(token))} {
		if resp, b := post(auth); resp.StatusCode != 401 || !bytes.Contains(b, []byte(`"unauthorized"`)) {
			t.Fatalf("auth %q: %d %s", auth, resp.StatusCode, b)
		}
	}
	resp, b := post("Bearer " + strings.TrimSpace(string(token)))
	if resp.StatusCode != 200 {
		t.Fatalf("POST txn/: %d %s", resp.StatusCode, b)
	}
	var tx struct {
		ID     string `json:"id"`
		Number uint64 `json:"number"`
	}
	json.Unmarshal(b, &tx)
	var st struct {
		Status      string `json:"status"`
		BlockNumber uint64 `json:"block_number"`
		Block       string `json:"block"`
	}
	seen := map[string]bool{}
	waitFor("finalized", func() bool {
		if get("/txs/"+tx.ID, &st) == 200 {
			seen[st.Status] = true
		}
		return st.Status == "finalized"
	})
	if !seen["finalized"] {
		t.Fatal("never finalized")
	}
	var blk struct {
		ID           string `json:"id"`
		Transactions []struct {
			ID string `json:"id"`
		} `json:"transactions"`
	}
	get(fmt.Sprintf("/blocks/%d", st.BlockNumber), &blk)
	if blk.ID != st.Block || len(blk.Transactions) == 0 || blk.Transactions[0].ID != tx.ID {
		t.Fatalf("block %d does not hold the transaction", st.BlockNumber)
	}
	var to1, from1 struct {
		Balance uint64 `json:"balance"`
		Nonce   uint64 `json:"nonce"`
	}
	get("/accounts/"+to, &to1)
	get("/accounts/"+addr, &from1)
	if to1.Balance != 250 || from1.Nonce != 1 {
		t.Fatalf("balances: to %d, from nonce %d", to1.Balance, from1.Nonce)
	}
	var cnt uint64
	get("/"+addr+"/blk/cnt/", &cnt)
	if cnt < st.BlockNumber {
		t.Fatalf("blk/cnt %d below the tx block %d", cnt, st.BlockNumber)
	}
	// A light client checks the balance against the genesis alone, and a
	// genesis of another network makes the same answer fail.
	out, err := ccoin(t, "verify-account", to, "--node", base, "--genesis", g)
	if err != nil || !strings.Contains(out, "verified: address="+to+" balance=250 ") || !strings.Contains(out, "verified against finality") {
		t.Fatalf("verify-account: %v\n%s", err, out)
	}
	// GET /genesis is the file initc was given, byte for byte, and the
	// browser wallet verifies its balance against it.
	resp, err = http.Get(base + "/genesis")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if file, _ := os.ReadFile(g); resp.StatusCode != 200 || !bytes.Equal(served, file) {
		t.Fatalf("GET /genesis: %d %q, want the file %q", resp.StatusCode, served, file)
	}
	walletVerifiesInBrowser(t, base, g, filepath.Join(dir, "keys", addr, "id_rsa"))
	other := filepath.Join(dir, "other.json")
	writeGenesis(t, other, addr, addr, 10)
	if out, err := ccoin(t, "verify-account", to, "--node", base, "--genesis", other); err == nil || !strings.Contains(out, "check chain") {
		t.Fatalf("verify-account against another network's genesis: want a failure naming check chain, got %v:\n%s", err, out)
	}
	// Clean shutdown on SIGTERM.
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("node exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("node did not stop after SIGTERM")
	}
	testSnapshotFiles(t, dir, g)
}

// testSnapshotFiles exports the stopped node's finalized state, imports it
// into a fresh data directory with the same root, and refuses the file once
// a byte of it is flipped or it is cut short.
func testSnapshotFiles(t *testing.T, dir, genesisPath string) {
	snap := filepath.Join(t.TempDir(), "state.snap")
	out, err := ccoin(t, "snapshot", "export", "--datadir", dir, "--out", snap, "--chunk-accounts", "1")
	rootRe := regexp.MustCompile(`state_root=([0-9a-f]{64})`)
	m := rootRe.FindStringSubmatch(out)
	if err != nil || m == nil || !strings.Contains(out, "exported ") {
		t.Fatalf("snapshot export: %v\n%s", err, out)
	}
	fresh := t.TempDir()
	out, err = ccoin(t, "snapshot", "import", snap, "--datadir", fresh, "--genesis", genesisPath)
	if got := rootRe.FindStringSubmatch(out); err != nil || got == nil || got[1] != m[1] || !strings.Contains(out, "imported ") {
		t.Fatalf("snapshot import (want root %s): %v\n%s", m[1], err, out)
	}
	raw, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(raw)
	flipped[8+4+10] ^= 1 // past the magic and the first chunk's length, inside its first address
	for _, c := range []struct {
		name, why string
		file      []byte
	}{
		{"flipped", "chunk 0 hash mismatch", flipped},
		{"truncated", "truncated", raw[:len(raw)/2]},
	} {
		bad := filepath.Join(t.TempDir(), c.name+".snap")
		if err := os.WriteFile(bad, c.file, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := ccoin(t, "snapshot", "import", bad, "--datadir", t.TempDir(), "--genesis", genesisPath)
		if err == nil || !strings.Contains(out, c.why) {
			t.Fatalf("%s snapshot: want an error naming %q, got %v:\n%s", c.name, c.why, err, out)
		}
	}
}
