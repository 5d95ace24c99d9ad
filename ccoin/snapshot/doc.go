// Package snapshot proves accounts to light clients and moves whole states
// between nodes, both anchored in a finalized block that anyone holding the
// genesis file can check.
//
// # Finality
//
// Finality is proven by a finality certificate (DESIGN section 5): the
// header of the final block and a quorum of miners' signed votes for one
// link from its checkpoint (epoch e) to epoch e+1. VerifyFinal checks it
// with nothing but the genesis file, through consensus.VerifyCertificate,
// the one certificate check the chain, sync, snapshots, the API and the
// light client share: every signature, every voter a miner, distinct voters
// reaching the quorum, consecutive epochs, and the header's id. A failure
// wraps ErrNotFinal and the consensus.CertCheck that failed. (The first
// version proved finality by a chain of sealed headers whose distinct
// sealers reached a quorum; that rule was unsafe and is gone.) A node
// serves proofs and snapshots only for its chain's final block and only
// with a certificate of exactly that block (FinalCert); otherwise
// ErrUnavailable.
//
// # Account proofs
//
// AccountProof is an account (or its absence), its sparse Merkle proof
// against the state_root of the final block, and that block's finality
// certificate. VerifyAccount is a pure function for light clients; the HTTP API
// serves proofs at GET /accounts/{address}?proof=true and `ccoin
// verify-account` checks them.
//
// # Snapshots
//
// A snapshot is the state of a finalized block cut into chunks of at most
// ChunkAccounts accounts (10,000 by default, about 360 KB, far under the
// P2P frame limit) in address order, and a manifest: chain id, block
// number, block id, state root, account count, accounts per chunk, the
// block's sealed header, its finality certificate, and the SHA-256 of every
// chunk (manifest format version 2; version 1 carried sealed-header
// finality proofs and is refused with ErrVersion). Encodings are fixed-width
// big-endian binary with every length bounded before anything is
// allocated. A chunk names its block number and index, so it is
// self-describing; its hash ties it to the manifest, and the order of its
// addresses is checked as it is decoded.
//
// A snapshot file is magic ‖ {length ‖ chunk}* ‖ manifest ‖ manifest
// length ‖ magic: chunk hashes are only known after the state was walked, so
// the manifest is written last and found through the fixed-size footer.
//
// Import trusts nothing in the file: the manifest's block must be proven
// final by its certificate under the genesis miners, and its sealed header
// must be that block and carry a valid seal, before any chunk is read, each chunk must
// match its manifest hash, and the state tree rebuilt from the accounts must
// have the block's state_root before the chain (chain.ImportSnapshot) makes
// it its head. The manifest's chunk hashes themselves are only authenticated
// by that final root check, so a forged chunk list is caught at the end of
// the import; the importer then writes nothing but unreferenced tree nodes.
//
// A chain seeded from a snapshot has no blocks between genesis and the
// snapshot block; it keeps that block's sealed header and stores the
// certificate as its newest, so it serves snapshots and proofs of its own.
//
// # Serving
//
// A Server offers a node's snapshot to its peers over P2P. It
// builds lazily, when a peer first asks and again at most every
// ServerConfig.Every once the final block moved, on the goroutine of Run,
// and writes the chunks to a file in a cache directory so that a chunk is
// one read rather than a walk of the state tree. It keeps the MaxServed
// newest snapshots, so a peer fetching the older one is not cut off by a
// rebuild, and checks every chunk against its manifest before serving it.
// It reads the chain and the finality certificate through the small Chain
// and Certifier interfaces and takes its time from a clock.Clock, so it
// knows nothing of the node.
package snapshot
