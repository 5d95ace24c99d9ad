package p2p

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"time"
)

const (
	maxCandidates   = 1024
	dialBaseBackoff = 500 * time.Millisecond
	dialMaxBackoff  = 2 * time.Minute
	dialTick        = 500 * time.Millisecond
	// An address that gave us a non-validator while only reserved slots
	// were free is retried later.
	reservedRetry = time.Minute
)

// candidate is an address we may dial.
type candidate struct {
	bootstrap bool
	validator bool // last seen behind it: a genesis validator
	failures  int
	next      time.Time
}

func validDialAddr(a string) error {
	if len(a) > 128 {
		return errors.New("too long")
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return err
	}
	if host == "" {
		return errors.New("no host")
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

// AddPeers adds dial candidates (from discovery or PEX) to a bounded set;
// when it is full a random non-bootstrap entry makes room.
func (n *Network) AddPeers(addrs ...string) {
	added := false
	n.mu.Lock()
	for _, a := range addrs {
		if validDialAddr(a) != nil || n.selfAddrs[a] || n.cands[a] != nil {
			continue
		}
		if len(n.cands) >= maxCandidates {
			for k, c := range n.cands {
				if !c.bootstrap {
					delete(n.cands, k)
					break
				}
			}
			if len(n.cands) >= maxCandidates {
				break
			}
		}
		n.cands[a] = &candidate{}
		added = true
	}
	n.mu.Unlock()
	if added {
		n.kickDialer()
	}
}

// knownAddrs lists up to max addresses to share over PEX: connected peers'
// listen addresses first, then candidates that have not been failing.
func (n *Network) knownAddrs(max int, except string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	seen := map[string]bool{except: true, "": true}
	var out []string
	for _, p := range n.peers {
		if len(out) >= max {
			return out
		}
		if a := p.info.ListenAddr; !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	for a, c := range n.cands {
		if len(out) >= max {
			break
		}
		if c.failures == 0 && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

func (n *Network) kickDialer() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

func (n *Network) dialLoop(ctx context.Context) {
	defer n.wg.Done()
	t := n.cfg.Clock.NewTicker(dialTick)
	defer t.Stop()
	for {
		n.dialSome(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		case <-n.kick:
		}
	}
}

// dialSome starts dials to due candidates: bootstrap peers always, then known
// validators, then others while outbound slots are free.
func (n *Network) dialSome(ctx context.Context) {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	if n.stopping {
		n.mu.Unlock()
		return
	}
	connected := make(map[string]bool, 2*len(n.peers))
	out := 0
	for _, p := range n.peers {
		connected[p.info.ListenAddr] = true
		if !p.info.Inbound {
			connected[p.dialed] = true
			out++
		}
	}
	free := n.cfg.MaxOutbound - out - len(n.dialing)
	var boot, vals, others []string
	for a, c := range n.cands {
		if connected[a] || n.dialing[a] || now.Before(c.next) {
			continue
		}
		switch {
		case c.bootstrap:
			boot = append(boot, a)
		case c.validator:
			vals = append(vals, a)
		default:
			others = append(others, a)
		}
	}
	rand.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
	todo := boot
	for _, a := range append(vals, others...) {
		if free <= 0 {
			break
		}
		todo = append(todo, a)
		free--
	}
	for _, a := range todo {
		n.dialing[a] = true
	}
	n.mu.Unlock()

	for _, a := range todo {
		n.wg.Add(1)
		go func(addr string) {
			defer n.wg.Done()
			err := n.connect(ctx, addr)
			n.dialDone(addr, err)
		}(a)
	}
}

func (n *Network) dialDone(addr string, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.dialing, addr)
	c := n.cands[addr]
	if c == nil {
		return
	}
	now := n.cfg.Clock.Now()
	switch {
	case err == nil:
		c.failures = 0
		c.next = now.Add(dialBaseBackoff)
		return
	case errors.Is(err, ErrSelfConnection):
		n.selfAddrs[addr] = true
		delete(n.cands, addr)
	case errors.Is(err, ErrDuplicatePeer):
		c.next = now.Add(30 * time.Second)
	case errors.Is(err, ErrTooManyPeers):
		c.next = now.Add(reservedRetry)
	default:
		c.failures++
		back := dialBaseBackoff << min(c.failures, 10)
		if c.bootstrap || c.validator {
			back = min(back, n.cfg.PriorityRedial)
		} else {
			back = min(back, dialMaxBackoff)
		}
		back += time.Duration(rand.Int64N(int64(back)/4 + 1))
		c.next = now.Add(back)
	}
	if !errors.Is(err, context.Canceled) && !n.stopping {
		n.log.Debug("dial failed", "addr", addr, "error", err, "failures", c.failures)
	}
}
