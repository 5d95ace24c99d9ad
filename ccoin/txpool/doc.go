// Package txpool holds the transactions a node has accepted but not yet seen
// in a block, and hands the block builder a valid execution order.
//
// Per sender the pool keeps two sets. The pending run is the gapless nonce
// sequence starting at the head account's nonce+1; only it is executable and
// only it is returned by Pending. Queued transactions have a higher nonce and
// wait for the gap below them to fill; they are bounded (MaxFutureGap,
// MaxQueued) and expire after TTL because they may never become executable.
// Pending transactions do not expire: they leave by inclusion (Reset drops
// nonces the head has passed) or by revalidation, so an accepted transaction
// is not silently lost while the chain is merely slow.
//
// There are no fees, so there is no replacement: the first transaction seen
// for a sender and nonce wins (ErrNonceTaken). That keeps one nonce from being
// included twice when it is submitted to several nodes at once. For the same
// reason funds are reserved in arrival order: a transaction is refused when
// its amount plus the amounts the sender already has pooled exceeds the
// balance, so accepting it never makes an earlier accepted one unaffordable.
//
// Signature checks (RSA-2048, about 70 µs each) dominate the cost of Add, so
// they run in parallel on GOMAXPROCS workers and outside the pool lock; cheap
// checks that can only reject (known id, nonce too low or taken) run first
// under a read lock so floods of duplicates and replays cost no RSA work. Every
// check is repeated under the write lock before insertion.
//
// Head state is cached per pooled sender and refreshed by Reset for the
// accounts a new head touched, so Reset costs time proportional to the
// change, not to the pool. The State must be safe for concurrent use.
//
// Block validation must repeat every check made here (chain id, data size,
// signature and key, nonce = account nonce + 1, amount within balance); the
// pool only lets it skip a signature it verified itself, through Verified.
//
// SaveJournal and LoadJournal carry the pool across a restart. Loading goes
// through Add, so a journaled transaction the chain included or invalidated
// meanwhile, or one damaged on disk, is dropped rather than trusted.
package txpool
