package apitest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestValidatorCatchesDrift makes sure the validator really rejects
// responses that do not match the document.
func TestValidatorCatchesDrift(t *testing.T) {
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	for _, c := range []struct {
		name, method, path string
		status             int
		body               string
		ok                 bool
	}{
		{"good account", "GET", "/accounts/00", 200, `{"address":"` + hex40 + `","balance":1,"nonce":0,"next_nonce":1}`, true},
		{"extra field", "GET", "/accounts/00", 200, `{"address":"` + hex40 + `","balance":1,"nonce":0,"next_nonce":1,"x":1}`, false},
		{"missing field", "GET", "/accounts/00", 200, `{"address":"` + hex40 + `","balance":1,"nonce":0}`, false},
		{"uppercase hex", "GET", "/accounts/00", 200, `{"address":"` + "ABCDEF0123456789ABCDEF0123456789ABCDEF01" + `","balance":1,"nonce":0,"next_nonce":1}`, false},
		{"negative", "GET", "/accounts/00", 200, `{"address":"` + hex40 + `","balance":-1,"nonce":0,"next_nonce":1}`, false},
		{"undeclared status", "GET", "/status", 418, `{"error":{"code":"bad_json","message":"x"}}`, false},
		{"unknown code", "GET", "/nope", 404, `{"error":{"code":"whatever","message":"x"}}`, false},
		{"not found route", "GET", "/nope", 404, `{"error":{"code":"not_found","message":"x"}}`, true},
		{"unknown route 200", "GET", "/nope", 200, `{}`, false},
	} {
		req := httptest.NewRequest(c.method, c.path, nil)
		err := v.Check(req, c.status, h, []byte(c.body))
		if (err == nil) != c.ok {
			t.Errorf("%s: ok=%v, err=%v", c.name, c.ok, err)
		}
	}
}

const hex40 = "0123456789abcdef0123456789abcdef01234567"
