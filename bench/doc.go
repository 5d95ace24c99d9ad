// Package bench is ccoin's load generator, the logic behind `ccoin bench`.
//
// A run has four phases, and only the last one is timed:
//
//  1. Funding: fresh sender accounts are generated in parallel and funded from
//     a faucet key with one transfer each, batched through POST /txs; the run
//     waits until every given node has applied all of them.
//  2. Pre-signing: every transfer is signed and rendered to JSON before the
//     clock starts (senders round-robin, nonces 1..k per sender), on all
//     cores, so the generator's own RSA cost does not throttle the nodes.
//  3. Calibration: the machine's RSA-2048 verify rate is measured for about a
//     second. Every node verifies every transaction once, so on one machine
//     running N nodes the throughput ceiling is that rate divided by N.
//  4. Measurement: batches go to the nodes round-robin (each transaction to
//     exactly one node; gossip spreads it) at a token-bucket rate or as fast
//     as several submitters per node manage. One node's block stream
//     (GET /events, backed by polling GET /status) says when each block
//     appears and when the finalized height reaches it; the block's
//     transaction ids (GET /blocks/{n}/txids, not the full block, whose JSON
//     took about a tenth of a loaded node's CPU) say which submitted ids it
//     holds.
//
// Each sender's transactions all go to the same node, so one node never
// holds a sender's later nonces while the earlier ones are still gossiping
// from another node (which would show up as nonce gaps, a property of the
// generator rather than of the network).
//
// The report has counts, rates over the measurement window, latency
// percentiles from submission to inclusion and to finality (also in slots),
// rejections by API error code, and the verify ceiling with the fraction of
// it achieved.
package bench
