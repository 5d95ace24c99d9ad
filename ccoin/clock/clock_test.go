package clock

import (
	"context"
	"testing"
	"time"
)

func TestFakeFiresInOrder(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	f := NewFake(start)
	a := f.NewTimer(2 * time.Second)
	b := f.NewTimer(time.Second)
	tk := f.NewTicker(500 * time.Millisecond)
	f.Advance(999 * time.Millisecond)
	select {
	case <-b.C():
		t.Fatal("a 1 s timer fired at 999 ms")
	default:
	}
	if got := <-tk.C(); !got.Equal(start.Add(500 * time.Millisecond)) {
		t.Fatalf("tick at %v", got.Sub(start))
	}
	f.Advance(time.Millisecond)
	if got := <-b.C(); !got.Equal(start.Add(time.Second)) {
		t.Fatalf("1 s timer fired at %v", got.Sub(start))
	}
	if a.Stop() != true || a.Stop() != false {
		t.Fatal("Stop reports whether the timer was waiting")
	}
	f.Advance(5 * time.Second)
	select {
	case <-a.C():
		t.Fatal("a stopped timer fired")
	default:
	}
	if !f.Now().Equal(start.Add(6 * time.Second)) {
		t.Fatalf("now %v", f.Now().Sub(start))
	}
	tk.Stop()
	if f.Timers() != 0 {
		t.Fatalf("%d timers left", f.Timers())
	}
}

func TestSleep(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	done := make(chan error, 1)
	go func() { done <- Sleep(context.Background(), f, time.Minute) }()
	for f.Timers() == 0 {
		time.Sleep(time.Millisecond)
	}
	f.Advance(time.Minute)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, Real, time.Hour); err == nil {
		t.Fatal("Sleep ignored a cancelled context")
	}
}

func TestEvery(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan time.Time, 10)
	done := make(chan struct{})
	go func() { Every(ctx, f, time.Second, func() { calls <- f.Now() }); close(done) }()
	for f.Timers() == 0 {
		time.Sleep(time.Millisecond)
	}
	for i := 1; i <= 3; i++ {
		f.Advance(time.Second)
		if got := <-calls; !got.Equal(time.Unix(int64(i), 0)) {
			t.Fatalf("call %d at %v", i, got)
		}
	}
	cancel()
	<-done
	if f.Timers() != 0 {
		t.Fatal("Every left its ticker running")
	}
}
