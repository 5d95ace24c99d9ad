// Package genesis loads genesis.json (the prototype's schema plus
// timestamp and finality) into validated consensus parameters and builds
// the genesis block, which is byte-identical on every machine because it
// depends only on the file: the timestamp is taken from it, never from the
// local clock, and the proof-of-work search always starts at nonce 0.
package genesis
