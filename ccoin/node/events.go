package node

import (
	"sync"

	"ccoin/api"
	"ccoin/ccoin/chain"
	"ccoin/ccoin/types"
)

// hub fans chain events out to subscribers. A subscriber whose buffer is
// full misses events rather than slowing the chain.
type hub struct {
	mu   sync.Mutex
	next int
	subs map[int]chan chain.Event
}

func newHub() *hub { return &hub{subs: make(map[int]chan chain.Event)} }

func (h *hub) publish(ev chain.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range h.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

func (h *hub) subscribe(buf int) (<-chan chain.Event, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) >= 1024 {
		ch := make(chan chain.Event)
		close(ch)
		return ch, func() {}
	}
	id := h.next
	h.next++
	ch := make(chan chain.Event, buf)
	h.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, id)
			close(ch)
			h.mu.Unlock()
		})
	}
}

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
	src, cancel := s.hub.subscribe(256)
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
