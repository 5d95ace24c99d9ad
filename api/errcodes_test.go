package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"ccoin"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/txpool"
	"ccoin/ccoin/types"

	"github.com/getkin/kin-openapi/openapi3"
)

// sourceCodes collects every error code the package can answer with: the
// string constants named Code* in its non-test sources (kindErrors and every
// handler use these constants).
func sourceCodes(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, "Code") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					codes[v] = id.Name
				}
			}
			return true
		})
	}
	if len(codes) < 20 {
		t.Fatalf("found only %d Code constants", len(codes))
	}
	return codes
}

// extCodes decodes an x-error-codes style extension: status -> codes.
func extCodes(t *testing.T, where string, v any) map[string][]string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string][]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: x-error-codes is not {status: [codes]}: %v", where, err)
	}
	return m
}

// TestErrorCodesInSpec: every error code the node can return is in the
// ErrorBody enum of openapi.yaml and in the x-error-codes of some operation
// (or of every route); every operation lists its codes per error status,
// each such status is a declared response, and every listed code exists.
// The table that maps rule kinds (kindErrors) must use statuses
// that the submitting routes declare. apitest.Validator then holds every
// error a test provokes to its operation's list.
func TestErrorCodesInSpec(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(ccoin.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	src := sourceCodes(t)

	enum := map[string]bool{}
	for _, v := range doc.Components.Schemas["ErrorBody"].Value.Properties["code"].Value.Enum {
		enum[v.(string)] = true
	}
	for c, name := range src {
		if !enum[c] {
			t.Errorf("%s = %q is missing from the ErrorBody code enum", name, c)
		}
	}
	for c := range enum {
		if _, ok := src[c]; !ok {
			t.Errorf("ErrorBody enum lists %q, which the source never returns", c)
		}
	}

	listed := map[string]bool{}
	anyRoute, ok := doc.Extensions["x-error-codes-any-route"]
	if !ok {
		t.Fatal("openapi.yaml has no x-error-codes-any-route")
	}
	for _, cs := range extCodes(t, "root", anyRoute) {
		for _, c := range cs {
			listed[c] = true
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			ext, ok := op.Extensions["x-error-codes"]
			if !ok {
				t.Errorf("%s: no x-error-codes", where)
				continue
			}
			for status, cs := range extCodes(t, where, ext) {
				if op.Responses.Value(status) == nil {
					t.Errorf("%s: x-error-codes lists status %s, which is not a declared response", where, status)
				}
				for _, c := range cs {
					if !enum[c] {
						t.Errorf("%s: x-error-codes lists unknown code %q", where, c)
					}
					listed[c] = true
				}
			}
			for status := range op.Responses.Map() {
				if n, _ := strconv.Atoi(status); n >= 400 {
					if _, ok := extCodes(t, where, ext)[status]; !ok {
						t.Errorf("%s: declares response %s but lists no code for it", where, status)
					}
				}
			}
			if items, ok := op.Extensions["x-item-error-codes"]; ok {
				raw, _ := json.Marshal(items)
				var cs []string
				if err := json.Unmarshal(raw, &cs); err != nil {
					t.Fatalf("%s: x-item-error-codes: %v", where, err)
				}
				for _, c := range cs {
					if !enum[c] {
						t.Errorf("%s: x-item-error-codes lists unknown code %q", where, c)
					}
					listed[c] = true
				}
			}
		}
	}
	var unlisted []string
	for c := range src {
		if !listed[c] {
			unlisted = append(unlisted, c)
		}
	}
	sort.Strings(unlisted)
	if len(unlisted) > 0 {
		t.Errorf("codes no operation lists: %v", unlisted)
	}

	// Every backend error kind answers on POST /txs (per item) and on the
	// prototype's send route (as a status): both must list it.
	submit := doc.Paths.Find("/txs").Post
	proto := doc.Paths.Find("/{node}/txn/").Post
	raw, _ := json.Marshal(submit.Extensions["x-item-error-codes"])
	var items []string
	_ = json.Unmarshal(raw, &items)
	protoCodes := extCodes(t, "protoSend", proto.Extensions["x-error-codes"])
	for kind, k := range kindErrors {
		if !contains(items, k.code) {
			t.Errorf("POST /txs x-item-error-codes lacks %q (error kind %v)", k.code, kind)
		}
		if k.code == CodeBadSignature || k.code == CodeWrongChain || k.code == CodeNonceGap {
			continue // the node signs these itself, with its own chain and next nonce
		}
		if !contains(protoCodes[strconv.Itoa(k.status)], k.code) {
			t.Errorf("POST /{node}/txn/ x-error-codes[%d] lacks %q (error kind %v)", k.status, k.code, kind)
		}
	}
}

// TestErrorKindAnswers pins the status and code of every sentinel error a
// backend may return, as they were before the kinds moved to package
// rulekind: clients match on them.
func TestErrorKindAnswers(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{txpool.ErrKnown, http.StatusConflict, CodeKnown},
		{txpool.ErrWrongChain, http.StatusBadRequest, CodeWrongChain},
		{txpool.ErrBadSignature, http.StatusBadRequest, CodeBadSignature},
		{txpool.ErrNonceTooLow, http.StatusBadRequest, CodeNonceTooLow},
		{txpool.ErrNonceGap, http.StatusBadRequest, CodeNonceGap},
		{txpool.ErrNonceTaken, http.StatusConflict, CodeNonceTaken},
		{txpool.ErrInsufficientFunds, http.StatusBadRequest, CodeInsufficientFunds},
		{txpool.ErrPoolFull, http.StatusTooManyRequests, CodePoolFull},
		{txpool.ErrQueueFull, http.StatusTooManyRequests, CodePoolFull},
		{txpool.ErrAccountFull, http.StatusTooManyRequests, CodeAccountFull},
		{txpool.ErrDataTooLarge, http.StatusBadRequest, CodeDataTooLarge},
		{types.ErrUnsigned, http.StatusBadRequest, CodeBadSignature},
		{types.ErrFromMismatch, http.StatusBadRequest, CodeBadSignature},
		{crypto.ErrBadSignature, http.StatusBadRequest, CodeBadSignature},
		{crypto.ErrBadKey, http.StatusBadRequest, CodeBadSignature},
		{crypto.ErrWeakKey, http.StatusBadRequest, CodeBadSignature},
		{crypto.ErrBadAddress, http.StatusBadRequest, CodeBadAddress},
		{types.ErrEncoding, http.StatusBadRequest, CodeBadRequest},
		{fmt.Errorf("%w: %w", txpool.ErrBadSignature, crypto.ErrBadKey), http.StatusBadRequest, CodeBadSignature},
		{fmt.Errorf("tx 1: %w", ErrNotFound), http.StatusNotFound, CodeUnknownTx},
		{errors.New("disk on fire"), http.StatusInternalServerError, CodeInternal},
	}
	for _, c := range cases {
		e := toError(c.err, CodeUnknownTx)
		if e.Status != c.status || e.Code != c.code {
			t.Errorf("%v: %d %s, want %d %s", c.err, e.Status, e.Code, c.status, c.code)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestSpecMentionsEnforcedLimits: the limits the pool and the codec enforce
// are stated in openapi.yaml, so clients need not discover them by trial.
func TestSpecMentionsEnforcedLimits(t *testing.T) {
	spec, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"A gap of 1 to 64", "nonce_gap", "nonce_too_low", "nonce_taken", "at most 1024 bytes",
		"data_hex", "decimal string",
	} {
		if !strings.Contains(string(spec), want) {
			t.Errorf("openapi.yaml does not say %q", want)
		}
	}
}
