// Package webtest drives the explorer in headless Chromium (chromedp) for
// the browser tests of package web and of the devnet: it finds Chromium (or
// skips the test), opens tabs that fail the test on page exceptions and CSP
// violations, and wraps the usual steps (load, wait, evaluate, fill a field)
// with errors that show the page's text.
package webtest
