// Package consensus implements ccoin's proof-of-authority rules: the slot
// schedule, the checks a header and its seal must pass without any state,
// building and sealing a validator's own blocks, and the safety rails around
// sealing.
//
// Time is cut into slots of genesis block_mining.interval; the leader of a
// slot is miners[slot mod N] and only it may seal a block there. The Engine
// holds these rules and nothing else: it sees neither storage nor the
// network, so the chain package calls it to verify blocks and the Sealer
// drives it for a validator.
//
// Two rails keep an honest validator from splitting the network:
//
//   - SlotGuard durably records the highest slot this validator signed
//     before the block leaves the process, so it never signs a second block
//     for a slot, even after kill -9 and restart (the failure that split
//     Aura networks).
//   - ClockMonitor estimates this node's clock offset from the timestamps of
//     other sealers' blocks; a validator whose clock a majority of the other
//     miners (at least two) show behind by more than a quarter slot stops
//     sealing and says so loudly instead of sealing into the next leader's
//     slot; a skew one peer's clock explains never stops it (with one miner
//     offline and one fast, that halted finality). A clock that looks ahead only gets a
//     warning: it cannot be told apart from blocks arriving late, and
//     stopping on it halted every validator of an overloaded devnet.
//
// # Finality by votes
//
// Finality (ffg.go) is Casper FFG over slots (DESIGN section 5): every
// epoch (slot) each validator signs one vote from the highest justified
// checkpoint on its head chain to that chain's checkpoint of the epoch;
// a checkpoint is justified by a quorum link from a justified one, and a
// justified checkpoint is final once a quorum links it to the next epoch.
// The Voter (voter.go) never signs a target epoch at or below, nor a
// source epoch below, those of its last vote, and records each vote
// durably (VoteRecord, fsync) before it is sent: so an honest validator
// never double- or surround-votes, even across kill -9, and any two
// quorums share a validator that would have to. VerifyCertificate checks
// a finality certificate with the genesis alone; the chain, the light
// client, snapshots and sync all use it. ccoin/sim searches thousands of
// seeded fault schedules (and byzantine validators under "two_thirds")
// for a counterexample.
package consensus
