package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"ccoin/web/webtest"
)

// TestHeadlessCapture takes a screenshot the way a script would, with
// Chromium's virtual time: it finishes only if no request stays open
// within the budget, so the event stream must open after the first render
// and its delay (it used to hang until killed).
func TestHeadlessCapture(t *testing.T) {
	path := webtest.FindChromium()
	if path == "" {
		t.Skip("no chromium binary in PATH")
	}
	vec, _ := loadVectors(t)
	srv := newFakeAPI(t, vec).start()
	shot := filepath.Join(t.TempDir(), "explorer.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
		"--virtual-time-budget=4000", "--screenshot="+shot, srv.URL+"/")
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the capture did not finish within 90 s: a request stayed open\n%s", out)
	}
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
		t.Fatalf("no screenshot written: %v\n%s", err, out)
	}
}
