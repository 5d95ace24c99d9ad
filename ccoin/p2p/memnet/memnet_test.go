package memnet

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

func pipe(t *testing.T, n *Network) (client, server net.Conn) {
	t.Helper()
	l, err := n.Host("b").Listen("b:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			got <- c
		}
	}()
	c, err := n.Host("a").Dial(context.Background(), l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return c, <-got
}

func TestStreamDelayOrderAndEOF(t *testing.T) {
	n := New(1)
	n.SetLink("a", "b", Link{Delay: 50 * time.Millisecond, Loss: 0.5, RTO: 30 * time.Millisecond})
	c, s := pipe(t, n)
	if s.RemoteAddr().(Addr).Host != "a" {
		t.Fatalf("remote addr %v", s.RemoteAddr())
	}
	start := time.Now()
	var want []byte
	for i := range 50 {
		b := []byte{byte(i), byte(i + 1)}
		want = append(want, b...)
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("stream reordered or lost bytes: %v", got)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("delivered in %v, link delay 50ms", d)
	}
}

func TestPartitionsAndDeadlines(t *testing.T) {
	n := New(2)
	c, s := pipe(t, n)
	n.Cut("a", "b") // one way: a's writes wait, b's still arrive
	c.Write([]byte("held"))
	s.Write([]byte("pass"))
	buf := make([]byte, 4)
	c.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "pass" {
		t.Fatalf("b->a during a one-way cut: %q %v", buf, err)
	}
	s.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := s.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a->b during the cut: %v", err)
	}
	if _, err := n.Host("a").Dial(context.Background(), "b:40001"); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("dial across a cut: %v", err)
	}
	n.Heal()
	s.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "held" {
		t.Fatalf("after heal: %q %v", buf, err)
	}
	n.Partition([]string{"a"}, []string{"b"})
	if _, err := n.Host("b").Dial(context.Background(), "b:40001"); err != nil {
		t.Fatalf("dial within one side: %v", err)
	}
	// A writer to a peer that never reads blocks at the window, then times out.
	n.Heal()
	c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	_, err := c.Write(make([]byte, 2*Window))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past the window: %v", err)
	}
	s.Close()
	c.SetWriteDeadline(time.Time{})
	if _, err := c.Write(make([]byte, Window+1)); err == nil {
		t.Fatal("write to a closed peer succeeded")
	}
}
