// Package apitest supports tests of the HTTP API and of its clients: Fake, an
// in-memory node (every part of api.Deps) with a few real signed blocks,
// transactions and accounts, and Validator, which holds every HTTP response to openapi.yaml so the
// contract cannot drift from the code.
package apitest
