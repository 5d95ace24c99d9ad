package web

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/types"
	"ccoin/web/webtest"
)

// The browser tests drive Chromium headless through chromedp against
// Handler() plus a fake API (fakeapi_test.go). They skip when no Chromium is
// installed (apt-get install chromium).

const (
	// poll is the page's refresh period in tests (?poll=ms), so waits for
	// polled state stay short.
	pollQuery   = "?poll=200"
	waitTimeout = 20 * time.Second
)

// newTab and waitFor bind this file's timeouts to the webtest helpers.

func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	return webtest.NewTab(t, browser, 90*time.Second)
}

func waitFor(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	webtest.WaitFor(t, ctx, expr, waitTimeout)
}

func open(t *testing.T, ctx context.Context, base, route string) {
	t.Helper()
	webtest.Open(t, ctx, base, pollQuery, route, waitTimeout)
}

// TestBrowser starts one Chromium (it takes seconds) and runs every browser
// test in it, each in its own tab against its own fake API.
func TestBrowser(t *testing.T) {
	browser := webtest.NewBrowser(t)
	tests := []struct {
		name string
		run  func(*testing.T, context.Context)
	}{
		{"Dashboard", testBrowserDashboard},
		{"Navigation", testBrowserNavigation},
		{"EncoderVectors", testBrowserEncoderVectors},
		{"Wallet", testBrowserWallet},
		{"Screens", testBrowserScreens},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, browser) })
	}
}

func testBrowserDashboard(t *testing.T, browser context.Context) {
	vec, _ := loadVectors(t)

	t.Run("status and live head", func(t *testing.T) {
		f := newFakeAPI(t, vec)
		srv := f.start()
		ctx := newTab(t, browser)
		open(t, ctx, srv.URL, "#/")
		waitFor(t, ctx, `document.getElementById("height")?.textContent === "42"`)
		waitFor(t, ctx, `document.getElementById("finalized-height")?.textContent === "40"`)
		waitFor(t, ctx, `document.querySelectorAll("#latest-blocks tr[data-test=block-row]").length === 20`)
		if got := webtest.Text(t, ctx, "sync"); got != "ready" {
			t.Errorf("sync = %q", got)
		}
		if got := webtest.Eval[string](t, ctx, `document.getElementById("leader").dataset.value`); got != sealerA {
			t.Errorf("leader = %q", got)
		}
		if got := webtest.Eval[string](t, ctx, `document.getElementById("next-leader").dataset.value`); got != sealerB {
			t.Errorf("next leader = %q", got)
		}
		// Fake blocks are 5 s apart: 12 per minute.
		if got := webtest.Text(t, ctx, "bpm"); got != "12" {
			t.Errorf("blocks per minute = %q, want 12", got)
		}
		if got := webtest.Text(t, ctx, "peers"); got != "2" {
			t.Errorf("peers = %q", got)
		}
		// The stream connects; a head event shows up without a poll.
		waitFor(t, ctx, `document.getElementById("live-strip").dataset.stream === "live"`)
		f.pushHead(43)
		waitFor(t, ctx, `document.getElementById("height")?.textContent === "43"`)
		waitFor(t, ctx, `document.querySelector("#latest-blocks tr[data-test=block-row]")?.dataset.number === "43"`)
		f.pushFinalized(43)
		waitFor(t, ctx, `document.getElementById("finalized-height")?.textContent === "43"`)
	})

	t.Run("activity charts", func(t *testing.T) {
		f := newFakeAPI(t, vec)
		srv := f.start()
		ctx := newTab(t, browser)
		open(t, ctx, srv.URL, "#/")
		// The fake's 42 blocks, 5 s apart, all fit the 5-minute window:
		// 30 bars of 10 s, a point per block after the first, and block
		// 7's one transfer as 0.1 transfers per second.
		waitFor(t, ctx, `document.getElementById("activity")?.dataset.blocks === "42"`)
		waitFor(t, ctx, `document.querySelectorAll("#chart-tps [data-test=tps-bar]").length === 30`)
		waitFor(t, ctx, `document.querySelectorAll("#chart-blocktime [data-test=blocktime-point]").length === 41`)
		if got := webtest.Eval[string](t, ctx, `[...document.querySelectorAll("#chart-tps [data-test=tps-bar]")].map((b) => b.dataset.value).filter((v) => v !== "0").join(",")`); got != "0.1" {
			t.Errorf("non-zero bars %q, want one of 0.1", got)
		}
		if got := webtest.Text(t, ctx, "activity-note"); !strings.Contains(got, "1 transfers") || !strings.Contains(got, "5.00 s per block") {
			t.Errorf("activity note %q", got)
		}
		// A new head extends the charts.
		waitFor(t, ctx, `document.getElementById("live-strip").dataset.stream === "live"`)
		f.pushHead(43)
		waitFor(t, ctx, `document.querySelectorAll("#chart-blocktime [data-test=blocktime-point]").length === 42`)
	})

	t.Run("polling when there is no event stream", func(t *testing.T) {
		f := newFakeAPI(t, vec)
		f.noEvents = true
		srv := f.start()
		ctx := newTab(t, browser)
		open(t, ctx, srv.URL, "#/")
		waitFor(t, ctx, `document.getElementById("height")?.textContent === "42"`)
		waitFor(t, ctx, `document.getElementById("live-strip").dataset.stream === "polling"`)
		f.setHeight(45)
		waitFor(t, ctx, `document.getElementById("height")?.textContent === "45"`)
		waitFor(t, ctx, `document.querySelector("#latest-blocks tr[data-test=block-row]")?.dataset.number === "45"`)
	})

	t.Run("minimal status shows placeholders", func(t *testing.T) {
		f := newFakeAPI(t, vec)
		f.minimal = true
		srv := f.start()
		ctx := newTab(t, browser)
		open(t, ctx, srv.URL, "#/")
		waitFor(t, ctx, `document.getElementById("height")?.textContent === "42"`)
		for _, id := range []string{"leader", "next-leader", "pool-size", "slot"} {
			if got := webtest.Text(t, ctx, id); got != "—" {
				t.Errorf("#%s = %q, want a placeholder", id, got)
			}
		}
	})
}

func testBrowserNavigation(t *testing.T, browser context.Context) {
	vec, _ := loadVectors(t)
	f := newFakeAPI(t, vec)
	srv := f.start()
	ctx := newTab(t, browser)
	open(t, ctx, srv.URL, "#/")
	waitFor(t, ctx, `document.getElementById("height")?.textContent === "42"`)

	search := func(q string) {
		t.Helper()
		webtest.Do(t, ctx, chromedp.SetValue(chromedp.CSS("#search"), q), chromedp.Click(chromedp.CSS("#search-submit")))
	}

	tests := []struct {
		name, query, wantHash, readyExpr string
	}{
		{"block number", "7", "#/block/7", `document.getElementById("block-number")?.textContent === "7"`},
		{"block id", fakeBlockID(5), "#/block/" + fakeBlockID(5), `document.getElementById("block-number")?.textContent === "5"`},
		{"tx id", vec.Transaction.ID, "#/tx/" + vec.Transaction.ID, `document.getElementById("tx-status")?.dataset.status === "finalized"`},
		{"address with 0x and capitals", "0x" + strings.ToUpper(vec.Key.Address), "#/account/" + vec.Key.Address, `document.querySelector("#account-txs tr[data-test=account-tx]")`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			search(tc.query)
			waitFor(t, ctx, "location.hash === "+webtest.JSString(tc.wantHash))
			waitFor(t, ctx, tc.readyExpr)
		})
	}

	// The account page lists transfers from the node's index by address,
	// and falls back to scanning the latest blocks on a node without one.
	t.Run("account transfers", func(t *testing.T) {
		for _, noIndex := range []bool{false, true} {
			f := newFakeAPI(t, vec)
			f.noIndex = noIndex
			srv := f.start()
			ctx := newTab(t, browser)
			open(t, ctx, srv.URL, "#/account/"+vec.Transaction.To)
			waitFor(t, ctx, `document.querySelector("#account-txs tr[data-test=account-tx]")?.dataset.id === `+webtest.JSString(vec.Transaction.ID))
			want := "1 on the chain, 0 waiting in the pool"
			if noIndex {
				want = "found in the latest 42 blocks"
			}
			if got := webtest.Text(t, ctx, "account-scan"); !strings.Contains(got, want) {
				t.Errorf("noIndex=%v: note %q, want %q", noIndex, got, want)
			}
			if got := webtest.Eval[string](t, ctx, `document.querySelector("#account-txs tr[data-test=account-tx]").dataset.status`); got != "finalized" {
				t.Errorf("noIndex=%v: status %q", noIndex, got)
			}
		}
	})

	t.Run("block page", func(t *testing.T) {
		open(t, ctx, srv.URL, "#/block/7")
		waitFor(t, ctx, `document.getElementById("block-number")?.textContent === "7"`)
		if got := webtest.Text(t, ctx, "block-id"); got != fakeBlockID(7) {
			t.Errorf("block id = %q", got)
		}
		if got := webtest.Eval[string](t, ctx, `document.getElementById("block-finalized").dataset.status`); got != "finalized" {
			t.Errorf("finality = %q", got)
		}
		if got := webtest.Eval[string](t, ctx, `document.querySelector("#block-txs tr[data-test=tx-row]")?.dataset.id`); got != vec.Transaction.ID {
			t.Errorf("block tx = %q", got)
		}
		// Data from the network is text, never markup.
		if n := webtest.Eval[int](t, ctx, `document.querySelectorAll("#block-data b").length`); n != 0 {
			t.Error("block data was rendered as HTML")
		}
		webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("#block-next")))
		waitFor(t, ctx, `document.getElementById("block-number")?.textContent === "8"`)
		if got := webtest.Eval[string](t, ctx, `document.getElementById("block-finalized").dataset.status`); got != "finalized" {
			t.Errorf("block 8 finality = %q", got)
		}
		open(t, ctx, srv.URL, "#/block/41")
		waitFor(t, ctx, `document.getElementById("block-finalized")?.dataset.status === "pending"`)
	})

	t.Run("unknown block", func(t *testing.T) {
		open(t, ctx, srv.URL, "#/block/999")
		waitFor(t, ctx, `document.getElementById("view-error")?.dataset.code === "unknown_block"`)
		if got := webtest.Text(t, ctx, "view-error"); got != "No such block on this node." {
			t.Errorf("error text = %q", got)
		}
	})

	t.Run("tx page", func(t *testing.T) {
		open(t, ctx, srv.URL, "#/tx/"+vec.Transaction.ID)
		waitFor(t, ctx, `document.getElementById("tx-status")?.dataset.status === "finalized"`)
		if got := webtest.Text(t, ctx, "tx-confirmations"); got != "36" {
			t.Errorf("confirmations = %q", got)
		}
		if got := webtest.Text(t, ctx, "tx-data"); got != vec.Transaction.Data {
			t.Errorf("data = %q", got)
		}
	})

	t.Run("tx page follows a pending tx until final", func(t *testing.T) {
		k, err := crypto.DecodePrivateKeyPEM([]byte(vec.Key.PrivateKeyPEM), nil)
		if err != nil {
			t.Fatal(err)
		}
		tx := &types.Transaction{Nonce: 9, From: k.Address(), Amount: 3, Data: []byte("go-signed"), Time: 1}
		tx.ChainID, _ = types.ParseHash(vec.Transaction.ChainID)
		tx.To, _ = crypto.ParseAddress(sealerB)
		if err := tx.Sign(k); err != nil {
			t.Fatal(err)
		}
		id := tx.ID().String()
		f.mu.Lock()
		f.posted = append(f.posted, tx)
		f.mu.Unlock()
		gets := func() int {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.txGets[id]
		}

		open(t, ctx, srv.URL, "#/tx/"+id)
		waitFor(t, ctx, `document.getElementById("tx-status")?.dataset.status === "finalized"`)
		if g := gets(); g < 3 {
			t.Fatalf("page looked %d times, want pending, included, finalized", g)
		}
		if got := webtest.Text(t, ctx, "tx-confirmations"); got != "3" {
			t.Errorf("confirmations = %q", got)
		}
		// Final means final: the page stops asking.
		g := gets()
		time.Sleep(5 * 200 * time.Millisecond)
		if after := gets(); after != g {
			t.Errorf("page kept polling a finalized tx: %d more requests", after-g)
		}
		f.mu.Lock()
		f.posted = nil
		f.mu.Unlock()
	})

	t.Run("search refuses nonsense", func(t *testing.T) {
		open(t, ctx, srv.URL, "#/")
		search("hello")
		waitFor(t, ctx, `!document.getElementById("toast").hidden && document.getElementById("toast").dataset.kind === "error"`)
		search(strings.Repeat("ab", 32))
		waitFor(t, ctx, `document.getElementById("toast").textContent.includes("No block or transaction")`)
	})
}

// testBrowserEncoderVectors runs ccoin-tx.js in the browser on the test
// vectors and on edge cases, and compares with ccoin/types byte for byte.
func testBrowserEncoderVectors(t *testing.T, browser context.Context) {
	vec, raw := loadVectors(t)
	f := newFakeAPI(t, vec)
	srv := f.start()
	ctx := newTab(t, browser)
	open(t, ctx, srv.URL, "#/")

	type result struct {
		Encoding  string `json:"enc"`
		ID        string `json:"id"`
		Address   string `json:"address"`
		SPKI      string `json:"spki"`
		Signature string `json:"signature"`
		JSON      string `json:"json"`
		VectorOK  bool   `json:"vectorOK"`
	}
	r := webtest.Eval[result](t, ctx, `(async () => {
		const tx = await import("/static/ccoin-tx.js");
		const v = `+string(raw)+`;
		const w = await tx.importPrivateKeyPEM(v.key.private_key_pem);
		const signed = await tx.signTx(w, v.transaction);
		return {
			enc: tx.bytesToHex(tx.encodeUnsigned(v.transaction)),
			id: await tx.txId(v.transaction),
			address: w.address,
			spki: tx.bytesToBase64(w.spki),
			signature: signed.signature,
			json: tx.txToJSON(signed),
			vectorOK: await tx.verifyTx({...signed, signature: v.transaction.signature_base64}),
		};
	})()`)

	if r.Encoding != vec.Transaction.UnsignedEncodingHex {
		t.Errorf("encoding\n got %s\nwant %s", r.Encoding, vec.Transaction.UnsignedEncodingHex)
	}
	if r.ID != vec.Transaction.ID {
		t.Errorf("id %s, want %s", r.ID, vec.Transaction.ID)
	}
	if r.Address != vec.Key.Address {
		t.Errorf("address %s, want %s", r.Address, vec.Key.Address)
	}
	if r.SPKI != vec.Key.PublicKeyDERBase64 {
		t.Errorf("SPKI differs from the vector's DER public key")
	}
	if !r.VectorOK {
		t.Error("WebCrypto rejects the vector's Go-made signature")
	}

	// The browser's signature verifies in Go.
	der, _ := base64.StdEncoding.DecodeString(r.SPKI)
	pub, err := crypto.ParsePublicKey(der)
	if err != nil {
		t.Fatalf("parse browser SPKI: %v", err)
	}
	id, err := types.ParseHash(vec.Transaction.ID)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(r.Signature)
	if err != nil {
		t.Fatalf("signature is not base64: %v", err)
	}
	if err := pub.Verify(id, sig); err != nil {
		t.Fatalf("browser signature does not verify in Go: %v", err)
	}
	// And the whole posted JSON decodes into a valid transaction.
	tx, err := decodeWireTx(strings.NewReader(r.JSON))
	if err != nil {
		t.Fatalf("decode posted JSON: %v\n%s", err, r.JSON)
	}
	if err := tx.VerifySignature(nil); err != nil {
		t.Fatalf("posted JSON does not verify: %v", err)
	}
	if tx.ID() != id {
		t.Fatalf("posted JSON has id %s", tx.ID())
	}

	t.Run("edge cases", func(t *testing.T) {
		type tcase struct {
			Nonce, Amount, Time uint64
			Data                string
		}
		cases := []tcase{
			{0, 0, 0, ""},
			{127, 128, 1, "a"},
			{255, 256, 65535, strings.Repeat("x", 255)},
			{65536, 4294967295, 4294967296, strings.Repeat("y", 256)},
			{1<<64 - 1, 1<<63 + 5, 1767225600000, strings.Repeat("z", 1024)},
			{42, 1, 2, "é€😀 ccoin\n\"quoted\""},
			{7, 7, 7, strings.Repeat("w", 70000)}, // bin32
		}
		type jsCase struct {
			ChainID string `json:"chain_id"`
			Nonce   string `json:"nonce"`
			From    string `json:"from"`
			To      string `json:"to"`
			Amount  string `json:"amount"`
			Data    string `json:"data"`
			Time    string `json:"time"`
		}
		var in []jsCase
		var want []string
		for _, c := range cases {
			var tx types.Transaction
			tx.ChainID, _ = types.ParseHash(vec.Transaction.ChainID)
			tx.From, _ = crypto.ParseAddress(vec.Transaction.From)
			tx.To, _ = crypto.ParseAddress(vec.Transaction.To)
			tx.Nonce, tx.Amount, tx.Time, tx.Data = c.Nonce, c.Amount, c.Time, []byte(c.Data)
			want = append(want, hex.EncodeToString(tx.EncodeUnsigned(nil)))
			// uint64 travels as decimal strings: a JS number cannot hold it.
			in = append(in, jsCase{vec.Transaction.ChainID, fmt.Sprint(c.Nonce), vec.Transaction.From, vec.Transaction.To, fmt.Sprint(c.Amount), c.Data, fmt.Sprint(c.Time)})
		}
		js, _ := json.Marshal(in)
		got := webtest.Eval[[]string](t, ctx, `(async () => {
			const tx = await import("/static/ccoin-tx.js");
			return `+string(js)+`.map((c) => tx.bytesToHex(tx.encodeUnsigned(c)));
		})()`)
		if len(got) != len(want) {
			t.Fatalf("%d results, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				g, w := got[i], want[i]
				if len(g) > 200 {
					g, w = g[:200]+"…", w[:200]+"…"
				}
				t.Errorf("case %d (%+v):\n got %s\nwant %s", i, cases[i].Nonce, g, w)
			}
		}
	})

	t.Run("refuses bad input", func(t *testing.T) {
		refused := webtest.Eval[[]bool](t, ctx, `(async () => {
			const tx = await import("/static/ccoin-tx.js");
			const base = `+fmt.Sprintf(`{chain_id: %q, nonce: 1, from: %q, to: %q, amount: 1, data: "", time: 1}`, vec.Transaction.ChainID, vec.Transaction.From, vec.Transaction.To)+`;
			const bad = [
				{...base, nonce: "18446744073709551616"},
				{...base, amount: -1},
				{...base, amount: 1.5},
				{...base, amount: 2 ** 60},
				{...base, to: "abcd"},
				{...base, from: "zz".repeat(20)},
				{...base, chain_id: "00".repeat(20)},
			];
			return bad.map((t) => { try { tx.encodeUnsigned(t); return false; } catch { return true; } });
		})()`)
		for i, ok := range refused {
			if !ok {
				t.Errorf("bad input %d was encoded", i)
			}
		}
		errs := webtest.Eval[[]string](t, ctx, `(async () => {
			const tx = await import("/static/ccoin-tx.js");
			const out = [];
			for (const pem of ["", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
				"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
				"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"]) {
				try { await tx.importPrivateKeyPEM(pem); out.push(""); } catch (e) { out.push(e.message); }
			}
			return out;
		})()`)
		for i, want := range []string{"No \"-----BEGIN PRIVATE KEY-----\"", "encrypted", "PKCS#1", "not an RSA private key"} {
			if !strings.Contains(errs[i], want) {
				t.Errorf("import %d: error %q lacks %q", i, errs[i], want)
			}
		}
	})
}

func testBrowserWallet(t *testing.T, browser context.Context) {
	vec, _ := loadVectors(t)
	addrRE := regexp.MustCompile(`^[0-9a-f]{40}$`)

	t.Run("create and export", func(t *testing.T) {
		f := newFakeAPI(t, vec)
		srv := f.start()
		ctx := newTab(t, browser)
		open(t, ctx, srv.URL, "#/wallet")
		webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("#wallet-create")))
		waitFor(t, ctx, `document.getElementById("wallet-address")`)
		addr := webtest.Text(t, ctx, "wallet-address")
		if !addrRE.MatchString(addr) {
			t.Fatalf("wallet address %q", addr)
		}
		waitFor(t, ctx, `document.getElementById("wallet-balance")?.dataset.value === "1000000"`)
		if got := webtest.Text(t, ctx, "wallet-nonce"); got != "1" {
			t.Errorf("next nonce = %q", got)
		}
		// Not remembered without consent.
		if got := webtest.Eval[bool](t, ctx, `localStorage.length === 0`); !got {
			t.Error("key stored without consent")
		}
		webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("#wallet-export")))
		waitFor(t, ctx, `document.getElementById("wallet-pem")?.value.includes("BEGIN PRIVATE KEY")`)
		pem := webtest.Eval[string](t, ctx, `document.getElementById("wallet-pem").value`)
		k, err := crypto.DecodePrivateKeyPEM([]byte(pem), nil)
		if err != nil {
			t.Fatalf("exported PEM does not load in Go: %v", err)
		}
		if k.Address().String() != addr {
			t.Fatalf("Go derives address %s from the exported key, page shows %s", k.Address(), addr)
		}

		// Consent stores it; a reload brings it back; forgetting removes it.
		webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("#wallet-remember")))
		waitFor(t, ctx, `localStorage.length === 1`)
		open(t, ctx, srv.URL, "#/wallet")
		waitFor(t, ctx, `document.getElementById("wallet-address")?.textContent === `+webtest.JSString(addr))
		webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("#wallet-forget")), chromedp.Click(chromedp.CSS("#wallet-forget")))
		waitFor(t, ctx, `document.getElementById("wallet-create") && localStorage.length === 0`)
	})

	t.Run("import and send", func(t *testing.T) {
		f := newFakeAPI(t, vec)
		srv := f.start()
		ctx := newTab(t, browser)
		open(t, ctx, srv.URL, "#/wallet")
		webtest.Do(t, ctx,
			chromedp.SetValue(chromedp.CSS("#wallet-import-pem"), vec.Key.PrivateKeyPEM),
			chromedp.Click(chromedp.CSS("#wallet-import")),
		)
		waitFor(t, ctx, `document.getElementById("wallet-address")?.textContent === `+webtest.JSString(vec.Key.Address))

		to := strings.Repeat("cd", 20)
		send := func(to, amount, data string) {
			t.Helper()
			webtest.SetValue(t, ctx, "send-to", to)
			webtest.SetValue(t, ctx, "send-amount", amount)
			webtest.SetValue(t, ctx, "send-data", data)
			webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("#send-submit")))
		}
		send(to, "250", "coffee ☕")
		waitFor(t, ctx, `document.getElementById("tx-status")?.dataset.status === "finalized"`)
		posted, errs := f.postedTxs()
		if len(errs) > 0 {
			t.Fatalf("fake API refused posts: %v", errs)
		}
		if len(posted) != 1 {
			t.Fatalf("%d transactions posted, want 1", len(posted))
		}
		tx := posted[0]
		if err := tx.VerifySignature(nil); err != nil {
			t.Fatalf("posted transaction does not verify: %v", err)
		}
		if tx.From.String() != vec.Key.Address || tx.To.String() != to || tx.Amount != 250 || string(tx.Data) != "coffee ☕" || tx.Nonce != 1 || tx.ChainID.String() != vec.Transaction.ChainID {
			t.Fatalf("posted %+v", tx)
		}
		if got := webtest.Text(t, ctx, "sent-tx-id"); got != tx.ID().String() {
			t.Errorf("page shows id %s, posted %s", got, tx.ID())
		}

		// The second transaction takes the next nonce.
		send("0x"+strings.ToUpper(to), "5", "")
		waitFor(t, ctx, `document.getElementById("sent-tx-id")?.textContent !== `+webtest.JSString(tx.ID().String()))
		waitFor(t, ctx, `document.getElementById("tx-status")?.dataset.status === "finalized"`)
		posted, _ = f.postedTxs()
		if len(posted) != 2 || posted[1].Nonce != 2 || posted[1].Amount != 5 || posted[1].VerifySignature(nil) != nil {
			t.Fatalf("second post: %d txs, %+v", len(posted), posted[len(posted)-1])
		}

		// Refusals read as words, with the code kept for tools.
		refusals := []struct {
			name, to, amount, code, words string
		}{
			{"bad address", "12345", "1", "bad_address", "40 hexadecimal characters"},
			{"bad amount", to, "1.5", "bad_amount", "whole number"},
			{"too large", to, "18446744073709551616", "bad_amount", "larger than any account"},
			{"insufficient funds", to, fmt.Sprint(amountInsufficient), "insufficient_funds", "does not have enough coins"},
			{"nonce gap", to, fmt.Sprint(amountNonceGap), "nonce_gap", "nonce gap"},
		}
		for _, r := range refusals {
			t.Run(r.name, func(t *testing.T) {
				send(r.to, r.amount, "")
				waitFor(t, ctx, `document.getElementById("send-message")?.dataset.code === `+webtest.JSString(r.code))
				if got := webtest.Text(t, ctx, "send-message"); !strings.Contains(got, r.words) {
					t.Errorf("message %q lacks %q", got, r.words)
				}
				if got := webtest.Eval[string](t, ctx, `document.getElementById("send-message").dataset.kind`); got != "error" {
					t.Errorf("message kind %q", got)
				}
				// Clear the code so the next case waits for its own.
				webtest.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`delete document.getElementById("send-message").dataset.code`))
			})
		}
		if posted, _ := f.postedTxs(); len(posted) != 2 {
			t.Fatalf("refused sends were recorded: %d", len(posted))
		}
	})
}

// testBrowserScreens checks the layout on a phone and a desktop width (no
// sideways scrolling) and saves screenshots for people to look at.
func testBrowserScreens(t *testing.T, browser context.Context) {
	vec, _ := loadVectors(t)
	f := newFakeAPI(t, vec)
	srv := f.start()
	ctx := newTab(t, browser)

	dirs := []string{t.TempDir()}
	if d := os.Getenv("CCOIN_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}

	screens := []struct {
		name          string
		width, height int64
		mobile        bool
	}{
		{"narrow", 390, 844, true},
		{"wide", 1280, 900, false},
	}
	sendFromWallet := func(t *testing.T) {
		webtest.SetValue(t, ctx, "wallet-import-pem", vec.Key.PrivateKeyPEM)
		webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("#wallet-import")))
		waitFor(t, ctx, `document.getElementById("wallet-balance")?.dataset.value`)
		webtest.SetValue(t, ctx, "send-to", vec.Transaction.To)
		webtest.SetValue(t, ctx, "send-amount", "250")
		webtest.SetValue(t, ctx, "send-data", "lunch")
		webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("#send-submit")))
		waitFor(t, ctx, `document.getElementById("tx-status")?.dataset.status === "finalized"`)
	}
	pages := []struct {
		name, route, ready string
		setup              func(t *testing.T)
	}{
		{"dashboard", "#/", `document.querySelectorAll("#latest-blocks tr[data-test=block-row]").length > 0 && document.getElementById("bpm").textContent !== "—"`, nil},
		{"block", "#/block/7", `document.querySelector("#block-txs tr[data-test=tx-row]")`, nil},
		{"tx", "#/tx/" + vec.Transaction.ID, `document.getElementById("tx-status")?.dataset.status === "finalized"`, nil},
		{"account", "#/account/" + vec.Key.Address, `document.querySelector("#account-txs tr[data-test=account-tx]")`, nil},
		{"wallet", "#/wallet", `document.getElementById("wallet-create")`, nil},
		{"wallet-sent", "#/wallet", `document.getElementById("wallet-create")`, sendFromWallet},
	}
	for _, s := range screens {
		t.Run(s.name, func(t *testing.T) {
			opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
			if s.mobile {
				opts = append(opts, chromedp.EmulateMobile)
			}
			webtest.Do(t, ctx, chromedp.EmulateViewport(s.width, s.height, opts...))
			for _, p := range pages {
				open(t, ctx, srv.URL, p.route)
				waitFor(t, ctx, p.ready)
				if p.setup != nil {
					p.setup(t)
				}
				webtest.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
				if over := webtest.Eval[int](t, ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
					t.Errorf("%s at %d px scrolls sideways by %d px", p.name, s.width, over)
				}
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatalf("screenshot: %v", err)
				}
				for _, d := range dirs {
					name := filepath.Join(d, fmt.Sprintf("%s-%s.png", p.name, s.name))
					if err := os.WriteFile(name, png, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
	t.Logf("screenshots in %s", strings.Join(dirs, ", "))
}
