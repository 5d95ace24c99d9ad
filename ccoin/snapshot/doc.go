// Package snapshot proves accounts to light clients and moves whole states
// between nodes, both anchored in a finalized block that anyone holding the
// genesis file can check.
//
// # Finality proofs
//
// A block is final once the distinct sealers of it and of the blocks built
// on it reach the genesis quorum (the chain's rolling-finality rule). A
// finality proof is therefore a segment of sealed headers: the finalized
// block first, then the canonical blocks on it up to the first at which the
// quorum is reached. A sealed header is encoded as its block with an empty
// transaction list (same block id, readable by any block decoder).
// VerifyFinality checks, with nothing but the genesis (chain id, miners,
// slot schedule, quorum, reward and difficulty): every header is of the
// chain, sealed (proof of work, sealer key hashing to the sealer, RSA-PSS
// signature of the block id) by the leader of its slot, and linked to the
// one before (parent id, number + 1, later slot); and the distinct sealers
// reach the quorum. The genesis block is final by definition and is proven
// by its header alone, which must hash to the chain id. The proof inherits
// the rule's assumption (validators crash or are cut off cleanly; messages
// arrive within a slot), see package chain.
//
// # Account proofs
//
// AccountProof is an account (or its absence), its sparse Merkle proof
// against the state_root of the finalized block, and that block's finality
// proof. VerifyAccount is a pure function for light clients; the HTTP API
// serves proofs at GET /accounts/{address}?proof=true and `ccoin
// verify-account` checks them.
//
// # Snapshots
//
// A snapshot is the state of a finalized block cut into chunks of at most
// ChunkAccounts accounts (10,000 by default, about 360 KB, far under the
// P2P frame limit) in address order, and a manifest: chain id, block
// number, block id, state root, account count, accounts per chunk, the
// finality proof, and the SHA-256 of every chunk. Encodings are fixed-width
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
// final under the genesis miners before any chunk is read, each chunk must
// match its manifest hash, and the state tree rebuilt from the accounts must
// have the block's state_root before the chain (chain.ImportSnapshot) makes
// it its head. The manifest's chunk hashes themselves are only authenticated
// by that final root check, so a forged chunk list is caught at the end of
// the import; the importer then writes nothing but unreferenced tree nodes.
//
// A chain seeded from a snapshot has no blocks between genesis and the
// snapshot block; it keeps that block's sealed header so it can still prove
// the block's finality and serve snapshots and proofs of its own.
package snapshot
