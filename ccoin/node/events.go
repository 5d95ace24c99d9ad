package node

import (
	"sync"

	"ccoin/ccoin/chain"
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
