//go:build unix

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeBlock returns the first ```sh block under the README heading.
func readmeBlock(t *testing.T, heading string) string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	i := strings.Index(s, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q", heading)
	}
	s = s[i:]
	j := strings.Index(s, "\n```sh\n")
	if j < 0 {
		t.Fatalf("no sh block under %q", heading)
	}
	s = s[j+len("\n```sh\n"):]
	k := strings.Index(s, "\n```")
	if k < 0 {
		t.Fatal("unterminated block")
	}
	return s[:k+1]
}

// freePortPair returns a loopback port p with p+1 free too (P2P and HTTP).
func freePortPair(t *testing.T, taken map[int]bool) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+1))
		l.Close()
		if err != nil || taken[p] || taken[p+1] || p+1 > 65535 {
			continue
		}
		l2.Close()
		taken[p], taken[p+1] = true, true
		return p
	}
	t.Fatal("no free port pair")
	return 0
}

// TestReadmeByHand runs the README's "Running nodes by hand" block as
// written, with its ports (4444, 7000-7021) moved to free loopback ports and
// the example config's listen host (0.0.0.0) to 127.0.0.1. Every process it
// starts is in one process group, killed at the end. It then checks that
// the three nodes agree on the finalized chain and the transfer.
func TestReadmeByHand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry and three nodes")
	}
	script := readmeBlock(t, "## Running nodes by hand")
	for _, want := range []string{"ccoin create-account", "ccoin genesis", "ccoin initc --genesis", "ccoin discovery -p 4444", "-t validator", "-t basic", "--wait finalized"} {
		if !strings.Contains(script, want) {
			t.Fatalf("the README block lacks %q:\n%s", want, script)
		}
	}
	taken := map[int]bool{}
	ports := map[string]string{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ports["4444"] = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	for _, p := range []int{7000, 7010, 7020} {
		q := freePortPair(t, taken)
		ports[strconv.Itoa(p)], ports[strconv.Itoa(p+1)] = strconv.Itoa(q), strconv.Itoa(q+1)
	}
	portRe := regexp.MustCompile(`\b(4444|70[012][01])\b`)
	move := func(s string) string {
		return portRe.ReplaceAllStringFunc(s, func(p string) string { return ports[p] })
	}

	dir := t.TempDir()
	example, err := os.ReadFile("../../ccoin.json.example")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.ReplaceAll(move(string(example)), `"host": "0.0.0.0"`, `"host": "127.0.0.1"`)
	if err := os.WriteFile(filepath.Join(dir, "ccoin.json.example"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// The README's nodes find each other through the registry; the example
	// config refreshes every 30 s, too slow for a test: registration happens
	// at start, so the nodes started later find the earlier ones at once.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-eu", "-c", move(script))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binPath)+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A file, not a pipe: the background nodes inherit the script's output,
	// and a pipe would keep Wait waiting for them.
	outFile, err := os.Create(filepath.Join(dir, "script.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	cmd.Stdout, cmd.Stderr = outFile, outFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	// The nodes and the registry outlive the script in its group: SIGTERM
	// first (a clean stop), SIGKILL for whatever remains after 10 s.
	stopAll := func() bool {
		syscall.Kill(-pgid, syscall.SIGTERM)
		for range 100 {
			if syscall.Kill(-pgid, 0) != nil {
				return true
			}
			time.Sleep(100 * time.Millisecond)
		}
		syscall.Kill(-pgid, syscall.SIGKILL)
		return false
	}
	t.Cleanup(func() { stopAll() })
	err = cmd.Wait()
	outText, _ := os.ReadFile(outFile.Name())
	logs := func() string {
		var b strings.Builder
		for _, n := range []string{"v1", "v2", "b1"} {
			raw, _ := os.ReadFile(filepath.Join(dir, "mynet", n, "node.log"))
			lines := strings.Split(string(raw), "\n")
			fmt.Fprintf(&b, "--- %s (last lines)\n%s\n", n, strings.Join(lines[max(0, len(lines)-15):], "\n"))
		}
		return b.String()
	}
	if err != nil {
		t.Fatalf("the README block failed: %v\n%s\n%s", err, outText, logs())
	}
	text := string(outText)
	m := regexp.MustCompile(`address=([0-9a-f]{40}) balance=(\d+)`).FindStringSubmatch(text)
	if !strings.Contains(text, "status=finalized") || m == nil || m[2] != "250" {
		t.Fatalf("want a finalized transfer and a balance of 250, got:\n%s", text)
	}

	// The three nodes agree: the block at the lowest finalized height has
	// the same id everywhere, and so does the recipient's balance.
	type status struct {
		FinalizedHeight uint64 `json:"finalized_height"`
	}
	get := func(port, path string, v any) error {
		resp, err := http.Get("http://127.0.0.1:" + port + path)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return json.NewDecoder(resp.Body).Decode(v)
	}
	apis := []string{ports["7001"], ports["7011"], ports["7021"]}
	low := uint64(1 << 62)
	for _, p := range apis {
		var st status
		if err := get(p, "/status", &st); err != nil {
			t.Fatal(err)
		}
		low = min(low, st.FinalizedHeight)
	}
	var ids []string
	for _, p := range apis {
		var blk struct {
			ID string `json:"id"`
		}
		var acc struct {
			Balance uint64 `json:"balance"`
		}
		if err := get(p, fmt.Sprintf("/blocks/%d", low), &blk); err != nil {
			t.Fatal(err)
		}
		if err := get(p, "/accounts/"+m[1], &acc); err != nil {
			t.Fatal(err)
		}
		if acc.Balance != 250 {
			t.Errorf("node on %s: balance %d, want 250", p, acc.Balance)
		}
		// Every node's index by address lists the transfer.
		var txs struct {
			Transactions []struct {
				Amount uint64 `json:"amount"`
				Status string `json:"status"`
			} `json:"transactions"`
		}
		if err := get(p, "/accounts/"+m[1]+"/txs?limit=5", &txs); err != nil {
			t.Fatal(err)
		}
		if len(txs.Transactions) != 1 || txs.Transactions[0].Amount != 250 {
			t.Errorf("node on %s: /accounts/%s/txs = %+v, want the one transfer of 250", p, m[1], txs.Transactions)
		}
		ids = append(ids, blk.ID)
	}
	if low < 2 || ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("nodes disagree at finalized height %d: %v\n%s", low, ids, logs())
	}
	if !stopAll() {
		t.Error("the nodes did not stop within 10 s of SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(dir, "mynet", "discovery", "discovery-state.json")); err != nil {
		t.Errorf("the registry's state is not under its --datadir: %v", err)
	}
}
