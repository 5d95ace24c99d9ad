// Package cryptotest gives tests RSA keys. Generating an RSA-2048 key takes
// from tens of milliseconds to seconds, so a test binary generates each key
// once, in parallel, and every test in it shares them.
package cryptotest
