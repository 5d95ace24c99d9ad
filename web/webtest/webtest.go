package webtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// FindChromium returns the path of a Chromium-compatible browser, or "".
func FindChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// NewBrowser starts one headless Chromium for the calling test, or skips
// the test when none is installed. Tabs are made with NewTab.
func NewBrowser(t *testing.T) context.Context {
	t.Helper()
	path := FindChromium()
	if path == "" {
		t.Skip("no chromium binary in PATH: install it (apt-get install -y chromium) to run the browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // the tests run as root in CI containers
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// NewTab opens a fresh tab with a deadline; it closes when the test ends,
// and the test fails if the page threw or violated its CSP meanwhile.
func NewTab(t *testing.T, browser context.Context, deadline time.Duration) context.Context {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(browser)
	ctx, cancel := context.WithTimeout(tab, deadline)
	t.Cleanup(func() {
		cancel()
		cancelTab()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	watchConsole(t, ctx)
	return ctx
}

// watchConsole fails the test on any uncaught exception, unhandled
// rejection or Content-Security-Policy violation in the page. Failed loads
// (expected 404s) are ignored.
func watchConsole(t *testing.T, ctx context.Context) {
	var (
		mu  sync.Mutex
		bad []string
	)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Source == "security" || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				bad = append(bad, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
				mu.Unlock()
			}
		}
	}()
	// Registered after the tab's cleanup, so it runs first, while the tab is
	// still open.
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, b := range bad {
			t.Errorf("page console: %s", b)
		}
	})
}

// Do runs chromedp steps and fails the test with the page's text on error.
func Do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v\npage: %s", err, PageText(ctx))
	}
}

// PageText is the page's URL, live-strip error and visible text, for failures.
func PageText(ctx context.Context) string {
	c, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(c, chromedp.Evaluate[string](`location.href + " error=" + document.getElementById("live-strip")?.dataset.error + "\n" + document.body.innerText`))
	if err != nil {
		return "(unavailable: " + err.Error() + ")"
	}
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}

// WaitFor polls a JavaScript expression until it is truthy.
func WaitFor(t *testing.T, ctx context.Context, expr string, timeout time.Duration) {
	t.Helper()
	var err error
	for range 3 {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")",
			chromedp.WithPollingInterval(50*time.Millisecond),
			chromedp.WithPollingTimeout(timeout)))
		// Right after a navigation the poll can land in the old page's
		// execution context; it is safe to ask again.
		if err == nil || !strings.Contains(err.Error(), "Cannot find context") {
			break
		}
	}
	if err != nil {
		t.Fatalf("waiting for %s: %v\npage: %s", expr, err, PageText(ctx))
	}
}

// Eval evaluates a JavaScript expression (awaiting a promise).
func Eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate: %v\nexpression: %s\npage: %s", err, expr, PageText(ctx))
	}
	return v
}

// Text is the trimmed text of the element with the given id ("" if none).
func Text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return Eval[string](t, ctx, fmt.Sprintf(`(document.getElementById(%q)?.textContent ?? "").trim()`, id))
}

// SetValue fills a form field as typing would (chromedp.SetValue cannot set
// an empty string).
func SetValue(t *testing.T, ctx context.Context, id, v string) {
	t.Helper()
	ok := Eval[bool](t, ctx, fmt.Sprintf(`(() => {
		const el = document.getElementById(%q);
		if (!el) return false;
		el.value = %s;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		return true;
	})()`, id, JSString(v)))
	if !ok {
		t.Fatalf("no #%s on the page\npage: %s", id, PageText(ctx))
	}
}

// JSString quotes s as a JavaScript string literal.
func JSString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Open loads the explorer at base with a query (e.g. "?poll=200") and a hash
// route (e.g. "#/wallet"), afresh, and waits until the app has started.
func Open(t *testing.T, ctx context.Context, base, query, route string, timeout time.Duration) {
	t.Helper()
	// A fresh query each time: a URL that differs only in its hash would not
	// reload the page, and tests rely on a fresh load.
	url := fmt.Sprintf("%s/%s&load=%d%s", base, query, time.Now().UnixNano(), route)
	var err error
	for range 3 {
		// Chromium fails a load with ERR_NETWORK_CHANGED when the host's
		// interfaces change (containers starting nearby); try again.
		if err = chromedp.Do(ctx, chromedp.Navigate(url)); err == nil || !strings.Contains(err.Error(), "ERR_NETWORK_CHANGED") {
			break
		}
	}
	if err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	WaitFor(t, ctx, `document.body.dataset.ready === "true"`, timeout)
}
