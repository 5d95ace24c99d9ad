package fanout

import "sync"

// Hub fans events of type T out to subscribers. Its zero value is not
// ready; use New.
type Hub[T any] struct {
	mu   sync.Mutex
	max  int // subscribers at once; 0 = no limit
	next int
	subs map[int]chan T
}

// New returns a hub that serves at most max subscribers at once (0: no
// limit), so that clients cannot make the publisher's work grow without
// bound.
func New[T any](max int) *Hub[T] {
	return &Hub[T]{max: max, subs: make(map[int]chan T)}
}

// Publish hands ev to every subscriber with room in its buffer and drops it
// for the others: a slow subscriber never slows the publisher.
func (h *Hub[T]) Publish(ev T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range h.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

// Subscribe returns a channel of buf events and the func that ends the
// subscription and closes the channel (calling it again does nothing).
// When the hub is full the channel is closed at once.
func (h *Hub[T]) Subscribe(buf int) (<-chan T, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.max > 0 && len(h.subs) >= h.max {
		ch := make(chan T)
		close(ch)
		return ch, func() {}
	}
	id := h.next
	h.next++
	ch := make(chan T, buf)
	h.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			// Closed under the lock, so Publish never sends on it after.
			h.mu.Lock()
			delete(h.subs, id)
			close(ch)
			h.mu.Unlock()
		})
	}
}

// Len is the number of open subscriptions.
func (h *Hub[T]) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
