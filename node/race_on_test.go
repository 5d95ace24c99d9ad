//go:build race

package node

// raceEnabled: the race detector slows RSA and execution several times, so
// the heaviest tests shrink their workload to keep the package quick.
const raceEnabled = true
