// Command ccoin-sim runs the deterministic network simulator (ccoin/sim):
// many seeded schedules of delays, losses, partitions, crashes and restarts
// against real chains, pools and sealers, checking safety, the bank and
// liveness after heal. `make sim SEEDS=N` sweeps; `make sim SEED=S`
// replays one seed with a trace.
package main
