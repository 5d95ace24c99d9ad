// Package web is the block explorer and browser wallet that every ccoin node
// serves next to its HTTP API.
//
// It is a single-page application written in plain HTML, CSS and JavaScript
// modules with no build step and no third-party code, embedded in the binary
// with go:embed so a node needs no extra files. The page talks to the node's
// JSON API on the same origin (GET /status, /genesis, /blocks, /txs/{id},
// /accounts/{address}, /pool, /peers, /finality, /validators, the /events
// stream and POST /txs). The validators page (static/validators.js) shows
// who is offline or slow and the newest finality certificate; blocks are
// marked final or justified.
//
// The wallet keeps its RSA key in the browser: keys are generated or imported
// with WebCrypto, transactions are encoded canonically and signed in
// static/ccoin-tx.js (which reproduces ccoin/types byte for byte), and only the
// signed transaction is posted. WebCrypto needs a secure context, so the
// wallet works on https:// origins and on localhost; the explorer works
// anywhere.
//
// The wallet also verifies its own balance without trusting the node
// (static/verify.js, static/wallet-verify.js): from the genesis file at
// GET /genesis (its SHA-256 is shown for the user to compare) it checks the
// finality certificate and Merkle proof of GET /accounts/{address}?proof=true
// as `ccoin verify-account` does, and names the check that failed.
//
// Handler serves "/" and "/index.html" (the page) and "/static/..." (its
// assets) with the request path unchanged, so the API router mounts it at
// "/" and "/static/" and keeps every other path for itself.
package web
