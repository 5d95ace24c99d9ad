package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ccoin/web/webtest"
)

// walletVerifiesInBrowser opens the explorer a real node serves, imports
// the account's key (the create-account PEM) into the browser wallet and
// waits until the wallet has checked its balance against the genesis the
// node serves at GET /genesis: the page's own light client, as
// verify-account, on a live chain. Without Chromium it only says so.
func walletVerifiesInBrowser(t *testing.T, base, genesisPath, keyPath string) {
	t.Helper()
	if webtest.FindChromium() == "" {
		t.Log("no chromium: the browser wallet's check against the live node is not run")
		return
	}
	gen, err := os.ReadFile(genesisPath)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(gen)
	ctx := webtest.NewTab(t, webtest.NewBrowser(t), 90*time.Second)
	webtest.Open(t, ctx, base, "?poll=300", "#/wallet", 20*time.Second)
	webtest.SetValue(t, ctx, "wallet-import-pem", string(pem))
	webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("#wallet-import")))
	// The first proof may come before the node holds a certificate of its
	// final block (unavailable); block events retry it.
	webtest.WaitFor(t, ctx, `["verified", "failed"].includes(document.getElementById("wallet-verified")?.dataset.state)`, 30*time.Second)
	text := webtest.Text(t, ctx, "wallet-verified")
	if state := webtest.Eval[string](t, ctx, `document.getElementById("wallet-verified").dataset.state`); state != "verified" ||
		!strings.Contains(text, "verified against finality (block ") || !strings.Contains(text, "certificate of 1 miners' votes)") {
		t.Fatalf("browser wallet on a live node: %s: %q", state, text)
	}
	if got := webtest.Eval[string](t, ctx, `document.getElementById("wallet-genesis").dataset.hash`); got != hex.EncodeToString(sum[:]) {
		t.Errorf("the wallet shows genesis hash %s, the file's is %x", got, sum)
	}
}
