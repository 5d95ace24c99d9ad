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
package consensus
