// Package api is the node's HTTP JSON API: the prototype's routes under
// /{node address}/ and the REST routes described by openapi.yaml, served with
// go-chi.
//
// The package knows nothing of the chain, the pool or the network: it reaches
// them through small interfaces by role (Deps, backend.go), which the node
// implements: a Reader for the read routes, a Submitter for the submitting
// ones and a Stream for GET /events. Each group of handlers holds only its
// part (server.go), and the API can be tested against an in-memory fake (see
// package apitest).
//
// Everything a client sends is treated as hostile: bodies are size-limited,
// JSON is decoded strictly, every failure is a 4xx JSON error with a stable
// code, requests time out (and stop their work), and a panic is caught and
// logged rather than taking the node down. What one client can make the node
// hold or spend is bounded too (limits.go): connections in all, concurrent
// submissions, signature checks per client IP and second, event streams per
// client IP, and POST /txs counts its items while the body streams in.
//
// Finality has its own part of the Reader (FinalityReader, finality.go):
// GET /finality serves the newest finality certificate, GET /evidence adds
// voting offences to sealing equivocations, GET /validators each miner's
// activity, and account proofs carry the certificate of their block.
//
// The JSON <-> types conversions (TxToJSON, TxFromJSON, BlockFromJSON,
// CertificateToJSON, CertificateFromJSON) are
// exported so the Go client, the tests and other tools share one definition
// of the wire shapes.
package api
