package api

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"ccoin"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"
	"github.com/hashicorp/go-hclog"
)

// TestRoutesMatchSpec: the router and openapi.yaml list the same operations,
// so neither can gain a route the other lacks.
func TestRoutesMatchSpec(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(ccoin.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	spec := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			spec[method+" "+path] = true
		}
	}
	s := &Server{log: hclog.NewNullLogger()}
	routes := map[string]bool{}
	err = chi.Walk(s.routes().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routes[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing, extra []string
	for r := range routes {
		if !spec[r] {
			missing = append(missing, r)
		}
	}
	for r := range spec {
		if !routes[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.yaml:\n%s", strings.Join(missing, "\n"))
	}
	if len(extra) > 0 {
		t.Errorf("openapi.yaml operations with no route:\n%s", strings.Join(extra, "\n"))
	}
	if len(routes) < 20 {
		t.Errorf("only %d routes walked", len(routes))
	}
}
