package devnet_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ccoin/api"
	"ccoin/api/client"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
	"ccoin/devnet"
	"ccoin/web/webtest"
)

// TestBrowserDevnet drives the explorer and wallet in headless Chromium
// against a real in-process devnet (3 validators and a basic node): what the
// web package's browser tests check against a fake API, checked end to end,
// with funds that really move and finalize. It skips without Chromium.

const (
	browserPoll = "?poll=250" // the page's refresh period, so waits stay short
	browserWait = 30 * time.Second
)

func TestBrowserDevnet(t *testing.T) {
	if webtest.FindChromium() == "" {
		t.Skip("no chromium binary in PATH: install it (apt-get install -y chromium) to run the devnet browser test")
	}
	m := startDevnet(t)
	node1, node4 := m.Nodes[0], m.Nodes[3]
	c1, c4 := client.New(node1.URL(), nil), client.New(node4.URL(), nil)
	shots := newShots(t)

	ctx := webtest.NewTab(t, webtest.NewBrowser(t), 120*time.Second)
	base := node1.URL()

	// 1. The dashboard shows the head, and it moves.
	openPage(t, ctx, base, "#/")
	waitJS(t, ctx, `/^\d+$/.test(document.getElementById("height")?.textContent ?? "")`)
	h0 := webtest.Eval[string](t, ctx, `document.getElementById("height").textContent`)
	waitJS(t, ctx, `Number(document.getElementById("height")?.textContent) > `+h0)
	waitJS(t, ctx, `document.querySelectorAll("#latest-blocks tr[data-test=block-row]").length > 0`)
	shots.take(t, ctx, "devnet-dashboard")

	// 2. Search for a finalized block by number; the page shows the id the
	// API gives for that number.
	fin := waitFinalized(t, c1, 2)
	want, err := c1.Block(t.Context(), strconv.FormatUint(fin, 10))
	if err != nil {
		t.Fatalf("GET /blocks/%d: %v", fin, err)
	}
	webtest.Do(t, ctx, chromedp.SetValue(chromedp.CSS("#search"), strconv.FormatUint(fin, 10)), chromedp.Click(chromedp.CSS("#search-submit")))
	waitJS(t, ctx, fmt.Sprintf(`location.hash === "#/block/%d"`, fin))
	waitJS(t, ctx, fmt.Sprintf(`document.getElementById("block-number")?.textContent === "%d"`, fin))
	if got := webtest.Text(t, ctx, "block-id"); got != want.Block.ID().String() {
		t.Errorf("block %d: page shows id %q, API says %s", fin, got, want.Block.ID())
	}
	waitJS(t, ctx, `document.getElementById("block-finalized")?.dataset.status === "finalized"`)
	shots.take(t, ctx, "devnet-block")

	// 3. A new wallet.
	openPage(t, ctx, base, "#/wallet")
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("#wallet-create")))
	waitJS(t, ctx, `document.getElementById("wallet-address")`)
	addrText := webtest.Text(t, ctx, "wallet-address")
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(addrText) {
		t.Fatalf("wallet address %q", addrText)
	}
	wallet, err := crypto.ParseAddress(addrText)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("browser wallet %s", wallet)

	// 4. The faucet funds it from Go; the page shows the balance.
	const funded = 5000
	fundTx := faucetTransfer(t, m, c1, wallet, funded)
	if _, err := c1.WaitTx(waitCtx(t), fundTx.ID(), api.TxFinalized, 200*time.Millisecond); err != nil {
		t.Fatalf("faucet transfer %s not finalized: %v", fundTx.ID(), err)
	}
	waitJS(t, ctx, fmt.Sprintf(`document.getElementById("wallet-balance")?.dataset.value === "%d"`, funded))
	if got := webtest.Text(t, ctx, "wallet-nonce"); got != "1" {
		t.Errorf("wallet next nonce = %q, want 1", got)
	}

	// 5. The browser signs and sends a transfer; it finalizes, on the basic
	// node too.
	rk, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	recipient := rk.Address()
	before := balance(t, c1, recipient)
	const sent = 1234
	webtest.SetValue(t, ctx, "send-to", recipient.String())
	webtest.SetValue(t, ctx, "send-amount", strconv.Itoa(sent))
	webtest.SetValue(t, ctx, "send-data", "from the browser ☕")
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("#send-submit")))
	waitJS(t, ctx, `document.getElementById("sent-tx-id")?.dataset.value`)
	idText := webtest.Eval[string](t, ctx, `document.getElementById("sent-tx-id").dataset.value`)
	id, err := types.ParseHash(idText)
	if err != nil {
		t.Fatalf("page shows tx id %q: %v", idText, err)
	}
	waitJS(t, ctx, `document.getElementById("tx-status")?.dataset.status === "finalized"`)
	if got := balance(t, c1, recipient); got != before+sent {
		t.Errorf("recipient balance on node1 = %d, want %d", got, before+sent)
	}
	tx4, err := c4.WaitTx(waitCtx(t), id, api.TxFinalized, 200*time.Millisecond)
	if err != nil {
		t.Fatalf("browser transaction %s on the basic node: %v", id, err)
	}
	if tx4.Tx.From != wallet || tx4.Tx.To != recipient || tx4.Tx.Amount != sent || string(tx4.Tx.Data) != "from the browser ☕" || tx4.Tx.Nonce != 1 {
		t.Errorf("basic node has tx from %s to %s amount %d data %q nonce %d", tx4.Tx.From, tx4.Tx.To, tx4.Tx.Amount, tx4.Tx.Data, tx4.Tx.Nonce)
	}
	if got := balance(t, c4, recipient); got != before+sent {
		t.Errorf("recipient balance on node4 = %d, want %d", got, before+sent)
	}
	waitJS(t, ctx, fmt.Sprintf(`document.getElementById("wallet-balance")?.dataset.value === "%d"`, funded-sent))
	shots.take(t, ctx, "devnet-wallet-sent")

	// The wallet's account page lists both transfers from the node's index
	// by address, newest first: the one it sent, then its funding.
	openPage(t, ctx, base, "#/account/"+wallet.String())
	waitJS(t, ctx, `document.querySelectorAll("#account-txs tr[data-test=account-tx]").length === 2`)
	if got := webtest.Eval[string](t, ctx, `[...document.querySelectorAll("#account-txs tr[data-test=account-tx]")].map((r) => r.dataset.id).join(",")`); got != id.String()+","+fundTx.ID().String() {
		t.Errorf("account page lists %s, want %s,%s", got, id, fundTx.ID())
	}

	// 6. The dashboard on a phone and on a desktop.
	for _, s := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{
		{"narrow", 390, 844, true},
		{"wide", 1280, 900, false},
	} {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if s.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		webtest.Do(t, ctx, chromedp.EmulateViewport(s.width, s.height, opts...))
		openPage(t, ctx, base, "#/")
		waitJS(t, ctx, `document.querySelectorAll("#latest-blocks tr[data-test=block-row]").length > 0 && document.getElementById("bpm").textContent !== "—"`)
		waitJS(t, ctx, `document.querySelectorAll("#chart-tps [data-test=tps-bar]").length === 30 && document.querySelectorAll("#chart-blocktime [data-test=blocktime-point]").length > 1`)
		if over := webtest.Eval[int](t, ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
			t.Errorf("dashboard at %d px scrolls sideways by %d px", s.width, over)
		}
		shots.take(t, ctx, "devnet-dashboard-"+s.name)
	}
	shots.log(t)
}

// startDevnet lays out and runs 3 validators and a basic node in a temp
// directory, waits until every node is ready, and stops them when the test
// ends.
func startDevnet(t *testing.T) *devnet.Manifest {
	t.Helper()
	dir := t.TempDir()
	m, err := devnet.Init(devnet.Options{Dir: dir, Validators: 3, Basic: 1, Interval: 0.5, BasePort: freeBasePort(t, 42), Difficulty: 1})
	if err != nil {
		t.Fatalf("devnet init: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- devnet.Run(ctx, m, "info", nil) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("devnet run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("devnet did not stop within 30 s")
		}
		if t.Failed() {
			logTails(t, m)
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for _, n := range m.Nodes {
		for {
			select {
			case err := <-done:
				t.Fatalf("devnet stopped early: %v", err)
			default:
			}
			if ready(n.URL()) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s (%s) not ready within 30 s", n.Name, n.URL())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return m
}

func ready(base string) bool {
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// freeBasePort finds n consecutive free ports on 127.0.0.1 by listening on
// them briefly. Another process may still take one before the devnet does;
// the range is random to make that unlikely.
func freeBasePort(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		base := 20000 + rand.IntN(40000-n)
		var ls []net.Listener
		ok := true
		for p := base; p < base+n; p++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d free consecutive ports in 20000-60000", n)
	return 0
}

// logTails shows the end of every node's log when the test failed.
func logTails(t *testing.T, m *devnet.Manifest) {
	for _, n := range m.Nodes {
		f, err := os.Open(filepath.Join(n.DataDir, "node.log"))
		if err != nil {
			continue
		}
		var lines []string
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if len(lines) > 40 {
				lines = lines[1:]
			}
		}
		f.Close()
		t.Logf("%s log (last lines):\n%s", n.Name, strings.Join(lines, "\n"))
	}
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), browserWait)
	t.Cleanup(cancel)
	return ctx
}

// waitFinalized waits until the node's finalized height is at least atLeast and
// returns it.
func waitFinalized(t *testing.T, c *client.Client, atLeast uint64) uint64 {
	t.Helper()
	deadline := time.Now().Add(browserWait)
	for {
		s, err := c.Status(t.Context())
		if err == nil && s.FinalizedHeight >= atLeast {
			return s.FinalizedHeight
		}
		if time.Now().After(deadline) {
			t.Fatalf("finalized height did not reach %d: status %+v, err %v", atLeast, s, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// balance is an account's balance (the API answers 0 for an account never
// seen).
func balance(t *testing.T, c *client.Client, a crypto.Address) uint64 {
	t.Helper()
	acc, err := c.Account(t.Context(), a)
	if err != nil {
		t.Fatalf("GET /accounts/%s: %v", a, err)
	}
	return acc.Balance
}

// faucetTransfer signs a transfer from the devnet faucet and submits it.
func faucetTransfer(t *testing.T, m *devnet.Manifest, c *client.Client, to crypto.Address, amount uint64) *types.Transaction {
	t.Helper()
	faucet, err := crypto.ParseAddress(m.Faucet)
	if err != nil {
		t.Fatal(err)
	}
	key, err := crypto.LoadKey(m.FaucetDir, faucet, nil)
	if err != nil {
		t.Fatalf("faucet key: %v", err)
	}
	st, err := c.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	chainID, err := types.ParseHash(st.ChainID)
	if err != nil {
		t.Fatalf("chain id %q: %v", st.ChainID, err)
	}
	acc, err := c.Account(t.Context(), faucet)
	if err != nil {
		t.Fatalf("faucet account: %v", err)
	}
	tx := &types.Transaction{ChainID: chainID, Nonce: acc.NextNonce, From: faucet, To: to, Amount: amount,
		Data: []byte("faucet"), Time: uint64(time.Now().UnixMilli())}
	if err := tx.Sign(key); err != nil {
		t.Fatal(err)
	}
	res, err := c.SubmitTxs(t.Context(), []*types.Transaction{tx})
	if err != nil {
		t.Fatalf("submit faucet transfer: %v", err)
	}
	if !res[0].Accepted {
		t.Fatalf("faucet transfer refused: %v", res[0].Error)
	}
	return tx
}

// screenshots: always in a temp dir, and in $CCOIN_SCREENSHOTS when set.
type shotDirs struct {
	dirs  []string
	names []string
}

func newShots(t *testing.T) *shotDirs {
	t.Helper()
	s := &shotDirs{dirs: []string{t.TempDir()}}
	if d := os.Getenv("CCOIN_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		s.dirs = append(s.dirs, d)
	}
	return s
}

func (s *shotDirs) take(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	webtest.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	for _, d := range s.dirs {
		p := filepath.Join(d, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		s.names = append(s.names, p)
	}
}

func (s *shotDirs) log(t *testing.T) {
	t.Logf("screenshots:\n  %s", strings.Join(s.names, "\n  "))
}

// ---- browser helpers, as in web/browser_test.go (test files do not
// export across packages).

// Thin wrappers over webtest keep the steps short.

func waitJS(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	webtest.WaitFor(t, ctx, expr, browserWait)
}

func openPage(t *testing.T, ctx context.Context, base, route string) {
	t.Helper()
	webtest.Open(t, ctx, base, browserPoll, route, browserWait)
}
