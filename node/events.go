package node

import (
	"ccoin/api"
	"ccoin/ccoin/chain"
	"ccoin/ccoin/fanout"
	"ccoin/ccoin/types"
)

// hub fans the chain's events out to the API's event streams (package
// fanout). A subscriber whose buffer is full misses events rather than
// slowing the chain; at most maxSubscribers streams are served at once.
type hub = fanout.Hub[chain.Event]

const maxSubscribers = 1024

func newHub() *hub { return fanout.New[chain.Event](maxSubscribers) }

// eventStream implements api.Stream: the node's event hub, with each
// event's block read from the chain.
type eventStream struct {
	hub    *hub
	blocks interface {
		Block(id types.Hash) (*types.Block, error)
	}
}

// Subscribe relays the hub's chain events as API events. Both channels are
// bounded and neither send blocks: a slow client misses events, the chain
// never waits for it.
func (s eventStream) Subscribe() (<-chan api.Event, func()) {
	src, cancel := s.hub.Subscribe(256)
	out := make(chan api.Event, 256)
	go func() {
		defer close(out)
		for ev := range src {
			blk, err := s.blocks.Block(ev.ID)
			if err != nil {
				continue
			}
			e := api.Event{Kind: ev.Kind, Block: blk, NewHead: ev.ID, OldHead: ev.OldHead, Depth: ev.Depth}
			select {
			case out <- e:
			default:
			}
		}
	}()
	return out, cancel
}
