// Package e2e holds the end-to-end fault-injection suite. It builds the ccoin
// binary and its FROM-scratch image, brings up the Docker testnet of
// docker-compose.yml (discovery, three validators, one basic node) under its
// own compose project, runs a steady transfer load, and injects faults one
// after another: SIGKILL and restart of a validator, a paused validator, a
// validator cut off the network, a restart of every node, and the basic node
// cut off. After each fault it checks the invariants of
// /work/shared/RELIABILITY.md over the HTTP API: all nodes agree on every
// block up to the lowest head, no finalized block is ever replaced, every
// accepted transaction is included exactly once, the supply equals the
// genesis allocation plus the block rewards, no node reports equivocation
// evidence, every validator seals again within a few turns, and memory stays
// bounded. The run ends with a table: fault, recovery and re-sealing time in
// slots, transactions accepted and finalized, peak memory, invariants.
//
// The tests sit behind the build tag e2e and skip when Docker is missing:
//
//	go test -tags e2e -v -timeout 25m ./e2e/
//
// Environment: CCOIN_E2E_BINARY uses a prebuilt static binary instead of
// building ./cmd/ccoin; CCOIN_E2E_KEEP=1 leaves the testnet running at the end;
// CCOIN_E2E_LOGS=DIR saves every container's log there.
package e2e
