package fanout

import "testing"

func TestPublishDropsForFullSubscribers(t *testing.T) {
	h := New[int](0)
	fast, cancelFast := h.Subscribe(3)
	slow, cancelSlow := h.Subscribe(1)
	for i := range 3 {
		h.Publish(i)
	}
	for want := range 3 {
		if got := <-fast; got != want {
			t.Fatalf("fast got %d, want %d", got, want)
		}
	}
	if got := <-slow; got != 0 {
		t.Fatalf("slow got %d, want 0", got)
	}
	select {
	case v := <-slow:
		t.Fatalf("slow got %d beyond its buffer", v)
	default:
	}
	if h.Len() != 2 {
		t.Fatalf("Len %d, want 2", h.Len())
	}
	cancelFast()
	cancelFast() // twice is harmless
	if _, ok := <-fast; ok {
		t.Fatal("a cancelled subscription stays open")
	}
	h.Publish(9) // must not send on the closed channel
	cancelSlow()
	if h.Len() != 0 {
		t.Fatalf("Len %d after cancelling all", h.Len())
	}
}

func TestSubscribersAreBounded(t *testing.T) {
	h := New[string](2)
	_, c1 := h.Subscribe(1)
	_, c2 := h.Subscribe(1)
	over, _ := h.Subscribe(1)
	if _, ok := <-over; ok {
		t.Fatal("a subscriber over the limit got an open channel")
	}
	if h.Len() != 2 {
		t.Fatalf("Len %d, want 2", h.Len())
	}
	c1()
	ch, c3 := h.Subscribe(1)
	h.Publish("x")
	if v := <-ch; v != "x" {
		t.Fatalf("got %q after a slot freed", v)
	}
	c2()
	c3()
}
