// Package sim is ccoin's deterministic network simulator: from one seed it
// builds a network of 3 to 7 validators and basic nodes, each with the real
// chain, state, pool, consensus engine, sealer and slot guard over an
// in-memory LevelDB, and plays a random schedule of transfers and faults
// (per-link delays and reordering, losses, one- and two-way partitions,
// clock skew up to a quarter slot, kill -9 and restart with the database
// kept) in simulated time. Then it heals everything and checks:
//
//   - safety: no two nodes call two different blocks final at one height,
//     no final height goes back (across restarts too), no node reorganises
//     below its final block, no validator signs two blocks for one slot;
//   - the bank: at each node's final block the balances sum to the genesis
//     allocation plus rewards; no transaction is applied twice; every
//     transaction a node accepted is included or still pending;
//   - liveness after heal: all nodes reach one head and finality advances.
//
// Determinism is by construction: one goroutine pops events in (time,
// sequence) order, every random choice comes from the seed's generator,
// the keys are fixed (testdata/keys.pem, since ids and fork-choice ties
// depend on addresses), and every clock the node parts read is the
// simulator's. RSA-PSS signatures are randomised but no id covers them.
// Result.Trace hashes every delivery and seal so a test can show two runs
// of a seed are the same run.
//
// What a node does between its parts (import, orphans and ancestor fetch,
// held near-future blocks, gossip relay, head announcements standing in
// for sync) is written here in node.go; the real node's equivalents live
// in package node (node/). Moving them into one package that both use is the next
// step of the node split.
package sim
