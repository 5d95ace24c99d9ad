package web

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"ccoin/web/webtest"
)

// finalityFake adds GET /finality and GET /validators to the fake API (in
// front of it, so fakeapi_test.go stays as it is): block 40 is final, the
// checkpoint of block 41 justified above it; validator A is online, B slow
// and C offline.
func finalityFake(t *testing.T, f *fakeAPI, noCert bool) *httptest.Server {
	back := f.start()
	u, err := url.Parse(back.URL)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	sealerC := "cc" + sealerA[2:]
	mux.HandleFunc("GET /finality", func(w http.ResponseWriter, r *http.Request) {
		if noCert {
			apiError(w, 503, "proof_unavailable", "proof not available: no finality certificate yet")
			return
		}
		f.mu.Lock()
		fin := f.finalized
		f.mu.Unlock()
		vote := func(voter string) map[string]any {
			return map[string]any{"voter": voter, "source": map[string]any{"epoch": 100 + fin, "id": fakeBlockID(fin)},
				"target": map[string]any{"epoch": 101 + fin, "id": fakeBlockID(fin + 1)}}
		}
		writeJSON(w, 200, map[string]any{
			"id": fakeBlockID(fin), "header": f.blockJSON(fin, false),
			"source": map[string]any{"epoch": 100 + fin, "id": fakeBlockID(fin)},
			"target": map[string]any{"epoch": 101 + fin, "id": fakeBlockID(fin + 1)},
			"votes":  []any{vote(sealerA), vote(sealerB)}, "raw": "", "quorum": 2, "miners": 3,
			"justified": []any{map[string]any{"epoch": 101 + fin, "id": fakeBlockID(fin + 1)}},
		})
	})
	mux.HandleFunc("GET /validators", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"slot": 142, "window_from": 42, "window_to": 141, "validators": []any{
			map[string]any{"address": sealerA, "last_sealed_slot": 141, "last_vote_epoch": 141, "led_slots": 34, "missed_slots": 0, "missed_votes": 0, "evidence": 0},
			map[string]any{"address": sealerB, "last_sealed_slot": 140, "last_vote_epoch": 140, "led_slots": 33, "missed_slots": 3, "missed_votes": 12, "evidence": 0},
			map[string]any{"address": sealerC, "last_sealed_slot": nil, "last_vote_epoch": nil, "led_slots": 33, "missed_slots": 33, "missed_votes": 100, "evidence": 1},
		}})
	})
	mux.Handle("/", httputil.NewSingleHostReverseProxy(u))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestBrowserValidators: the validators page says who is online, slow and
// offline and summarises the certificate; the dashboard marks blocks final
// and justified.
func TestBrowserValidators(t *testing.T) {
	browser := webtest.NewBrowser(t)
	vec, _ := loadVectors(t)

	t.Run("validators page", func(t *testing.T) {
		srv := finalityFake(t, newFakeAPI(t, vec), false)
		ctx := newTab(t, browser)
		open(t, ctx, srv.URL, "#/validators")
		waitFor(t, ctx, `document.querySelectorAll("#validators tr[data-test=validator-row]").length === 3`)
		for addr, want := range map[string]string{sealerA: "online", sealerB: "slow", "cc" + sealerA[2:]: "offline"} {
			got := webtest.Eval[string](t, ctx, `document.querySelector("#validators tr[data-address='`+addr+`']").dataset.health`)
			if got != want {
				t.Errorf("validator %s: %q, want %q", addr[:4], got, want)
			}
		}
		waitFor(t, ctx, `document.getElementById("finality-votes")?.textContent.includes("2 of 3 validators (quorum 2)")`)
		if got := webtest.Text(t, ctx, "finality-link"); got != "epoch 140 → 141" {
			t.Errorf("link %q", got)
		}
		if !webtest.Eval[bool](t, ctx, `document.getElementById("nav-validators").classList.contains("active")`) {
			t.Error("the validators nav link is not active")
		}
	})

	t.Run("blocks marked final and justified", func(t *testing.T) {
		srv := finalityFake(t, newFakeAPI(t, vec), false)
		ctx := newTab(t, browser)
		open(t, ctx, srv.URL, "#/")
		row := func(n string) string {
			return `document.querySelector("#latest-blocks tr[data-number='` + n + `']")?.dataset.finality`
		}
		waitFor(t, ctx, row("41")+` === "justified"`)
		for n, want := range map[string]string{"40": "final", "39": "final", "42": "pending"} {
			if got := webtest.Eval[string](t, ctx, row(n)); got != want {
				t.Errorf("block %s marked %q, want %q", n, got, want)
			}
		}
		open(t, ctx, srv.URL, "#/block/41")
		waitFor(t, ctx, `document.getElementById("block-finalized")?.dataset.status === "justified"`)
	})

	t.Run("no certificate yet", func(t *testing.T) {
		srv := finalityFake(t, newFakeAPI(t, vec), true)
		ctx := newTab(t, browser)
		open(t, ctx, srv.URL, "#/validators")
		waitFor(t, ctx, `document.getElementById("finality-none")?.textContent.includes("No finality certificate yet")`)
		waitFor(t, ctx, `document.querySelectorAll("#validators tr[data-test=validator-row]").length === 3`)
	})
}
