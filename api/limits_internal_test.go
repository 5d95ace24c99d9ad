package api

import (
	"fmt"
	"testing"
	"time"
)

func TestClientKey(t *testing.T) {
	for _, c := range []struct {
		remote, key string
		loopback    bool
	}{
		{"198.51.100.7:5000", "198.51.100.7", false},
		{"[::ffff:198.51.100.7]:5000", "198.51.100.7", false},
		{"127.0.0.1:5000", "127.0.0.1", true},
		{"[::1]:5000", "::/64", true},
		{"[2001:db8:1:2:3:4:5:6]:5000", "2001:db8:1:2::/64", false},
		{"[2001:db8:1:2:ffff::1]:1", "2001:db8:1:2::/64", false},
		{"[fe80::1%eth0]:1", "fe80::/64", false},
		{"pipe", "other", false},
	} {
		key, lo := clientKey(c.remote)
		if key != c.key || lo != c.loopback {
			t.Errorf("%s: %s %v, want %s %v", c.remote, key, lo, c.key, c.loopback)
		}
	}
}

// TestBudget: each client has its own bucket, refills at the rate, gets
// unused tokens back, and the table stays bounded under many clients.
func TestBudget(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	b := newBudget(100, 200, func() time.Time { return now })
	if ok, _ := b.take("a", 150); !ok {
		t.Fatal("a: first 150")
	}
	if ok, wait := b.take("a", 100); ok || wait != 500*time.Millisecond {
		t.Fatalf("a: 100 more: %v wait %v, want refused for 500ms", ok, wait)
	}
	if ok, _ := b.take("b", 200); !ok {
		t.Fatal("b is not a's bucket")
	}
	b.give("a", 50)
	if ok, _ := b.take("a", 100); !ok {
		t.Fatal("a after giving back 50")
	}
	now = now.Add(time.Second)
	if ok, _ := b.take("a", 100); !ok {
		t.Fatal("a after a second")
	}
	// A request bigger than the burst waits for a full bucket, then passes.
	if ok, wait := b.take("c", 500); !ok || wait != 0 {
		t.Fatalf("c: oversize request on a full bucket: %v %v", ok, wait)
	}
	if ok, _ := b.take("c", 1); ok {
		t.Fatal("c went into debt and must wait")
	}

	// Many clients: the table stays bounded; newcomers share one bucket.
	for i := range 3 * maxLimiterKeys {
		b.take(fmt.Sprint("k", i), 1)
	}
	if n := len(b.buckets); n > maxLimiterKeys {
		t.Fatalf("%d buckets", n)
	}
	// Once they refill, a sweep makes room again.
	now = now.Add(10 * time.Second)
	b.take("late", 1)
	if _, ok := b.buckets["late"]; !ok {
		t.Fatal("a newcomer after the sweep has no bucket of its own")
	}
}

func TestCounter(t *testing.T) {
	c := newCounter(2)
	if !c.acquire("a") || !c.acquire("a") || c.acquire("a") {
		t.Fatal("a: two slots")
	}
	if !c.acquire("b") {
		t.Fatal("b is not a")
	}
	c.release("a")
	if !c.acquire("a") {
		t.Fatal("a after a release")
	}
	c.release("a")
	c.release("a")
	c.release("b")
	if len(c.n) != 0 {
		t.Fatalf("left %v", c.n)
	}
}
