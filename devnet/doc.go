// Package devnet lays out and runs a local ccoin network: keys for every
// node and a funded faucet, a genesis naming the validators, one data
// directory and config per node, and a manifest (devnet.json) that lets
// the same command restart the same network. It also writes the layout the
// Docker testnet mounts, where nodes reach each other by host name.
package devnet
