// Package ccoin holds files that belong to the whole module rather than to one
// package: the HTTP API contract, embedded so the API can serve it and tests
// can check every response against it.
package ccoin

import _ "embed"

// OpenAPI is openapi.yaml, the HTTP API contract (OpenAPI 3.0.3).
//
//go:embed openapi.yaml
var OpenAPI []byte
