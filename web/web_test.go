package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// vectors mirrors the parts of testdata/vectors.json the tests use.
type vectors struct {
	Key struct {
		PrivateKeyPEM      string `json:"private_key_pem"`
		PublicKeyDERBase64 string `json:"public_key_der_base64"`
		Address            string `json:"address"`
	} `json:"key"`
	Transaction struct {
		ChainID             string `json:"chain_id"`
		Nonce               uint64 `json:"nonce"`
		From                string `json:"from"`
		To                  string `json:"to"`
		Amount              uint64 `json:"amount"`
		Data                string `json:"data"`
		Time                uint64 `json:"time"`
		UnsignedEncodingHex string `json:"unsigned_encoding_hex"`
		ID                  string `json:"id"`
		SignatureBase64     string `json:"signature_base64"`
	} `json:"transaction"`
}

func loadVectors(t *testing.T) (vectors, []byte) {
	t.Helper()
	raw, err := os.ReadFile("../testdata/vectors.json")
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("parse vectors: %v", err)
	}
	return v, raw
}

func TestHandlerServes(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()

	tests := []struct {
		name, method, path string
		wantCode           int
		wantType           string
		wantBody           string
	}{
		{"root is the page", "GET", "/", 200, "text/html; charset=utf-8", `id="search"`},
		{"index.html is the page", "GET", "/index.html", 200, "text/html; charset=utf-8", `<script type="module" src="/static/app.js">`},
		{"app module", "GET", "/static/app.js", 200, "text/javascript; charset=utf-8", "import"},
		{"encoder module", "GET", "/static/ccoin-tx.js", 200, "text/javascript; charset=utf-8", "export function encodeUnsigned"},
		{"api module", "GET", "/static/api.js", 200, "text/javascript; charset=utf-8", "insufficient_funds"},
		{"stylesheet", "GET", "/static/style.css", 200, "text/css; charset=utf-8", "@media"},
		{"icon", "GET", "/static/favicon.svg", 200, "image/svg+xml", "<svg"},
		{"head request", "HEAD", "/static/app.js", 200, "text/javascript; charset=utf-8", ""},
		{"missing asset", "GET", "/static/nope.js", 404, "", ""},
		{"static dir listing", "GET", "/static/", 404, "", ""},
		{"path traversal", "GET", "/static/../web.go", 404, "", ""},
		{"api paths are not ours", "GET", "/status", 404, "", ""},
		{"post refused", "POST", "/", 405, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.wantCode {
				t.Fatalf("status %d, want %d (%s)", res.StatusCode, tc.wantCode, body)
			}
			if tc.wantType != "" && res.Header.Get("Content-Type") != tc.wantType {
				t.Errorf("content type %q, want %q", res.Header.Get("Content-Type"), tc.wantType)
			}
			if !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("body lacks %q", tc.wantBody)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") {
				t.Errorf("CSP header = %q", csp)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("missing nosniff")
			}
		})
	}
}

func TestHandlerETag(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/static/ccoin-tx.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	req, _ := http.NewRequest("GET", srv.URL+"/static/ccoin-tx.js", nil)
	req.Header.Set("If-None-Match", etag)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Fatalf("status %d, want 304", res.StatusCode)
	}
}

// TestNoExternalReferences keeps the page self-contained: no CDN, no other
// origin, no inline script (the CSP would block it anyway).
func TestNoExternalReferences(t *testing.T) {
	assets := loadAssets()
	if len(assets) < 5 {
		t.Fatalf("only %d embedded assets", len(assets))
	}
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|from\s*["'](https?:)?//|import\(\s*["'](https?:)?//|url\(\s*["']?(https?:)?//|fetch\(\s*["'](https?:)?//|EventSource\(\s*["'](https?:)?//`)
	for name, a := range assets {
		body := string(a.body)
		if m := external.FindString(body); m != "" {
			t.Errorf("%s loads from another origin: %q", name, m)
		}
		for _, bad := range []string{"innerHTML", "eval(", "new Function"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
	if strings.Contains(string(assets["index.html"].body), "<script>") {
		t.Error("index.html has an inline script")
	}
}
