// Package memnet is an in-memory network for tests of ccoin/p2p: hosts
// listen and dial by name, and the test controls every directed link's
// delay, loss and reachability, so multi-node tests can cut one-way and
// two-way partitions and heal them without touching real sockets.
//
// A Host satisfies p2p.Transport. Connections are byte streams like TCP:
// writes are buffered (up to a window, then the writer blocks, which is
// backpressure) and delivered in order after the link's delay. A lost
// write is delivered after a retransmission timeout instead of vanishing,
// because a stream cannot skip bytes; loss therefore shows as latency
// spikes, as it does on TCP. While a link is down, bytes sent over it wait
// (as TCP retransmits) and arrive when it heals, unless a side gives up
// first: a node's own idle timeouts decide, as they must on a real network.
// Dialling across a down link fails at once.
//
// Time is the real clock; the seed only fixes the loss pattern. A
// deterministic simulator would replace the clock as well.
package memnet
