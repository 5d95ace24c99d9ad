package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// Security headers sent with every response. The page loads nothing from
// other origins and never runs inline script, so the policy can be strict;
// connect-src 'self' keeps a hostile node response from making the wallet talk
// to anyone else.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the explorer and wallet: the page at "/" and "/index.html"
// and its assets under "/static/". Every other path is 404, so the handler can
// sit behind an API router as a fallback without hiding API errors.
func Handler() http.Handler {
	assets := loadAssets()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")

		name := r.URL.Path
		switch {
		case name == "/" || name == "/index.html":
			name = "index.html"
		case strings.HasPrefix(name, "/static/"):
			name = strings.TrimPrefix(name, "/static/")
		default:
			http.NotFound(w, r)
			return
		}
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", a.etag)
		// Revalidate every time: the files change when the node is upgraded
		// and the ETag makes the check cheap.
		h.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
	})
}

// loadAssets reads the embedded files once; the map is read-only afterwards.
func loadAssets() map[string]asset {
	assets := make(map[string]asset)
	// The embedded tree is fixed at build time, so a walk error cannot
	// happen; an unreadable file would simply be missing (and tested for).
	_ = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return nil
		}
		sum := sha256.Sum256(body)
		assets[strings.TrimPrefix(p, "static/")] = asset{
			body:        body,
			contentType: contentType(p),
			etag:        `"` + hex.EncodeToString(sum[:8]) + `"`,
		}
		return nil
	})
	return assets
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		// Set explicitly: module scripts need a JavaScript type and the
		// system MIME table is not the same everywhere.
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}
