package memnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

// Window is how many bytes one direction of a connection buffers before
// its writer blocks.
const Window = 1 << 20

// DefaultRTO is the retransmission delay of a lost write.
const DefaultRTO = 200 * time.Millisecond

// Errors returned by Dial.
var (
	ErrRefused     = errors.New("memnet: connection refused")
	ErrUnreachable = errors.New("memnet: host unreachable (link down)")
)

// Link describes one direction between two hosts.
type Link struct {
	Delay time.Duration // added to every write
	Loss  float64       // probability that a write is lost and retransmitted after RTO
	RTO   time.Duration // default DefaultRTO
	Down  bool          // nothing is delivered until the link is up again
}

type pair struct{ from, to string }

// Network is a set of hosts and the links between them. The zero value is
// not usable; call New.
type Network struct {
	mu        sync.Mutex
	rng       *rand.Rand
	links     map[pair]Link
	listeners map[string]*listener
	nextPort  int
	changed   chan struct{} // closed and replaced when any link changes
}

// New makes an empty network; seed fixes which writes are lost.
func New(seed uint64) *Network {
	return &Network{
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		links:     make(map[pair]Link),
		listeners: make(map[string]*listener),
		nextPort:  40000,
		changed:   make(chan struct{}),
	}
}

// Host is one named machine on the network; it implements p2p.Transport.
type Host struct {
	n    *Network
	name string
}

// Host returns the host called name (its "IP" in addresses).
func (n *Network) Host(name string) *Host { return &Host{n: n, name: name} }

// SetLink sets the link from one host to another (one direction).
func (n *Network) SetLink(from, to string, l Link) {
	n.mu.Lock()
	n.links[pair{from, to}] = l
	n.notifyLocked()
	n.mu.Unlock()
}

// Cut takes the link from one host to another down (a one-way partition).
func (n *Network) Cut(from, to string) {
	n.mu.Lock()
	l := n.links[pair{from, to}]
	l.Down = true
	n.links[pair{from, to}] = l
	n.notifyLocked()
	n.mu.Unlock()
}

// Partition cuts every link between the two groups, both ways.
func (n *Network) Partition(a, b []string) {
	for _, x := range a {
		for _, y := range b {
			n.Cut(x, y)
			n.Cut(y, x)
		}
	}
}

// Heal brings every link up again, keeping delays and loss.
func (n *Network) Heal() {
	n.mu.Lock()
	for k, l := range n.links {
		l.Down = false
		n.links[k] = l
	}
	n.notifyLocked()
	n.mu.Unlock()
}

func (n *Network) notifyLocked() {
	close(n.changed)
	n.changed = make(chan struct{})
}

// link returns the link from→to and a channel closed when links change.
func (n *Network) link(from, to string) (Link, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.links[pair{from, to}], n.changed
}

// sendTime is when a write made now over from→to becomes readable.
func (n *Network) sendTime(from, to string) time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.links[pair{from, to}]
	at := time.Now().Add(l.Delay)
	if l.Loss > 0 && n.rng.Float64() < l.Loss {
		rto := l.RTO
		if rto <= 0 {
			rto = DefaultRTO
		}
		at = at.Add(rto)
	}
	return at
}

// Addr is a memnet address, "host:port".
type Addr struct {
	Host string
	Port int
}

// Network implements net.Addr.
func (Addr) Network() string { return "memnet" }

func (a Addr) String() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// Listen listens on addr's port on this host (the host part is ignored,
// so "127.0.0.1:0" works too); port 0 picks a free one.
func (h *Host) Listen(addr string) (net.Listener, error) {
	_, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		return nil, fmt.Errorf("memnet: bad port %q", ps)
	}
	n := h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if port == 0 {
		n.nextPort++
		port = n.nextPort
	}
	a := Addr{h.name, port}
	if n.listeners[a.String()] != nil {
		return nil, fmt.Errorf("memnet: %s already in use", a)
	}
	l := &listener{n: n, addr: a, ch: make(chan net.Conn, 128), done: make(chan struct{})}
	n.listeners[a.String()] = l
	return l, nil
}

// Dial connects to a listener at addr ("host:port"). It fails at once if
// the link is down either way, after one round trip otherwise.
func (h *Host) Dial(ctx context.Context, addr string) (net.Conn, error) {
	n := h.n
	n.mu.Lock()
	l := n.listeners[addr]
	var to string
	if l != nil {
		to = l.addr.Host
	}
	fwd, back := n.links[pair{h.name, to}], n.links[pair{to, h.name}]
	n.nextPort++
	local := Addr{h.name, n.nextPort}
	n.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("dial %s: %w", addr, ErrRefused)
	}
	if fwd.Down || back.Down {
		return nil, fmt.Errorf("dial %s: %w", addr, ErrUnreachable)
	}
	if rtt := fwd.Delay + back.Delay; rtt > 0 {
		t := time.NewTimer(rtt)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	ab := newStream(n, h.name, to)
	ba := newStream(n, to, h.name)
	client := &Conn{local: local, remote: l.addr, r: ba, w: ab}
	server := &Conn{local: l.addr, remote: local, r: ab, w: ba}
	select {
	case l.ch <- server:
		return client, nil
	case <-l.done:
	default: // backlog full
	}
	return nil, fmt.Errorf("dial %s: %w", addr, ErrRefused)
}

type listener struct {
	n    *Network
	addr Addr
	ch   chan net.Conn
	once sync.Once
	done chan struct{}
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.n.mu.Lock()
		if l.n.listeners[l.addr.String()] == l {
			delete(l.n.listeners, l.addr.String())
		}
		l.n.mu.Unlock()
	})
	return nil
}

func (l *listener) Addr() net.Addr { return l.addr }

// chunk is one write, readable from at.
type chunk struct {
	b  []byte
	at time.Time
}

// stream is one direction of a connection.
type stream struct {
	n        *Network
	from, to string

	mu       sync.Mutex
	chunks   []chunk
	buffered int
	wclosed  bool // writer closed: EOF after the data
	rclosed  bool // reader closed: writes fail
	wake     chan struct{}
	rdl, wdl time.Time
}

func newStream(n *Network, from, to string) *stream {
	return &stream{n: n, from: from, to: to, wake: make(chan struct{})}
}

func (s *stream) notifyLocked() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// wait blocks until wake, the link changes, until, or the deadline.
func wait(wake, changed <-chan struct{}, until, deadline time.Time) {
	var t <-chan time.Time
	next := until
	if !deadline.IsZero() && (next.IsZero() || deadline.Before(next)) {
		next = deadline
	}
	if !next.IsZero() {
		timer := time.NewTimer(time.Until(next))
		defer timer.Stop()
		t = timer.C
	}
	select {
	case <-wake:
	case <-changed:
	case <-t:
	}
}

func (s *stream) read(p []byte) (int, error) {
	for {
		link, changed := s.n.link(s.from, s.to)
		s.mu.Lock()
		if s.rclosed {
			s.mu.Unlock()
			return 0, net.ErrClosed
		}
		now := time.Now()
		if !s.rdl.IsZero() && !now.Before(s.rdl) {
			s.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		}
		var until time.Time
		if len(s.chunks) > 0 && !link.Down {
			c := &s.chunks[0]
			if !now.Before(c.at) {
				k := copy(p, c.b)
				c.b = c.b[k:]
				s.buffered -= k
				if len(c.b) == 0 {
					s.chunks = s.chunks[1:]
				}
				s.notifyLocked()
				s.mu.Unlock()
				return k, nil
			}
			until = c.at
		}
		if len(s.chunks) == 0 && s.wclosed {
			s.mu.Unlock()
			return 0, io.EOF
		}
		wake, dl := s.wake, s.rdl
		s.mu.Unlock()
		wait(wake, changed, until, dl)
	}
}

func (s *stream) write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		s.mu.Lock()
		if s.wclosed {
			s.mu.Unlock()
			return done, net.ErrClosed
		}
		if s.rclosed {
			s.mu.Unlock()
			return done, errReset
		}
		if !s.wdl.IsZero() && !time.Now().Before(s.wdl) {
			s.mu.Unlock()
			return done, os.ErrDeadlineExceeded
		}
		room := Window - s.buffered
		if room <= 0 {
			wake, dl := s.wake, s.wdl
			s.mu.Unlock()
			wait(wake, nil, time.Time{}, dl)
			continue
		}
		k := min(room, len(p)-done)
		at := s.n.sendTime(s.from, s.to)
		if n := len(s.chunks); n > 0 && at.Before(s.chunks[n-1].at) {
			at = s.chunks[n-1].at // in order, as on a stream
		}
		s.chunks = append(s.chunks, chunk{b: append([]byte(nil), p[done:done+k]...), at: at})
		s.buffered += k
		done += k
		s.notifyLocked()
		s.mu.Unlock()
	}
	return done, nil
}

func (s *stream) closeWrite() {
	s.mu.Lock()
	s.wclosed = true
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *stream) closeRead() {
	s.mu.Lock()
	s.rclosed = true
	s.chunks, s.buffered = nil, 0
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *stream) setDeadline(read bool, t time.Time) {
	s.mu.Lock()
	if read {
		s.rdl = t
	} else {
		s.wdl = t
	}
	s.notifyLocked()
	s.mu.Unlock()
}

var errReset = errors.New("memnet: connection reset by peer")

// Conn is one end of a memnet connection; it implements net.Conn.
type Conn struct {
	local, remote Addr
	r, w          *stream
	once          sync.Once
}

func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return c.r.read(p)
}

func (c *Conn) Write(p []byte) (int, error) { return c.w.write(p) }

// Close closes both directions: the other side reads EOF once it has
// read what was sent, and its writes fail.
func (c *Conn) Close() error {
	c.once.Do(func() {
		c.w.closeWrite()
		c.r.closeRead()
	})
	return nil
}

// CloseWrite half-closes the connection, like TCP's shutdown(SHUT_WR).
func (c *Conn) CloseWrite() error {
	c.w.closeWrite()
	return nil
}

func (c *Conn) LocalAddr() net.Addr  { return c.local }
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

func (c *Conn) SetDeadline(t time.Time) error {
	c.r.setDeadline(true, t)
	c.w.setDeadline(false, t)
	return nil
}

func (c *Conn) SetReadDeadline(t time.Time) error {
	c.r.setDeadline(true, t)
	return nil
}

func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.w.setDeadline(false, t)
	return nil
}
