package p2p

// Attacks from issue 16 and the handshake-era attacks re-run over TLS.
// Each test names the attack; the comment says what the first version of
// the protocol (a signed HEY/ACK over plain TCP) did with it.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/p2p/wire"
)

// Replay: an attacker dials validator A, keeps A's ACK and presents it to
// node D as its HEY. Before: D accepted the attacker as A (and evicted
// its real link to A). After: the ACK says A but the attacker's TLS
// certificate says the attacker, so D refuses and bans the attacker only.
func TestReplayedHandshakeRefused(t *testing.T) {
	valA := startNode(t, 0, nil)
	d := startNode(t, 1, nil)
	link(t, valA, d)
	evil := testKey(t, 2)

	// Record A's ACK, as any client of A can.
	rp, err := dialTLS(t, valA.Addr(), evil)
	if err != nil {
		t.Fatal(err)
	}
	rp.send(t, testHello(evil, testNetworkID, testChainID, ""))
	rp.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	hdr, ackBody, err := wire.ReadFrame(rp.conn, wire.DefaultMaxFrame)
	if err != nil || hdr != wire.HdrHelloAck {
		t.Fatalf("recording A's ACK: %q %v", hdr, err)
	}
	// Replay it to D as a HEY.
	rp2, err := dialTLS(t, d.Addr(), evil)
	if err != nil {
		t.Fatal(err)
	}
	if err := wire.WriteFrame(rp2.conn, wire.HdrHello, ackBody); err != nil {
		t.Fatal(err)
	}
	rp2.waitClosed(t)
	waitFor(t, "refusal", func() bool { return contains(d.logs.String(), "not the certificate's") })
	if !d.isBanned(addrBanKey(evil.Address())) {
		t.Error("the replaying identity is not banned")
	}
	if d.isBanned(addrBanKey(testKey(t, 0).Address())) {
		t.Error("the impersonated validator was banned")
	}
	peers := d.Peers()
	if len(peers) != 1 || peers[0].NodeAddress != testKey(t, 0).Address() || !d.hasPeer(valA) {
		t.Fatalf("D's link to A was disturbed: %+v", peers)
	}
}

// A claimed identity without its key: an attacker presents validator A's
// certificate (public) but cannot sign with A's key. Before: a HEY needed
// only a signature that could be replayed. After: TLS fails, D never
// sees the attacker as A.
func TestStolenCertificateWithoutKeyRefused(t *testing.T) {
	d := startNode(t, 1, nil)
	certA, err := selfSignedCert(testKey(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	certA.PrivateKey = testKey(t, 2).RSA() // the attacker's key behind A's certificate
	conn, err := net.Dial("tcp", d.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tc := tls.Client(conn, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{certA}, InsecureSkipVerify: true})
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err == nil {
		// TLS 1.3 clients finish before the server checks them; the server
		// then refuses, so no ACK can follow a HEY.
		h, body, _ := wire.Encode(testHello(testKey(t, 0), testNetworkID, testChainID, ""))
		wire.WriteFrame(tc, h, body) // may fail: the server may have hung up already
		if hdr, _, err := wire.ReadFrame(tc, wire.DefaultMaxFrame); err == nil {
			t.Fatalf("got %s with a certificate whose key the client lacks", hdr)
		}
	}
	waitFor(t, "refusal", func() bool { return contains(d.logs.String(), "refused inbound peer") })
	if len(d.Peers()) != 0 {
		t.Fatal("peer registered")
	}
}

// Certificates that are not account keys are refused: one whose
// self-signature does not verify, and one for a 1024-bit RSA key.
func TestNonAccountCertificateRefused(t *testing.T) {
	d := startNode(t, 1, nil)
	try := func(cert tls.Certificate, want string) {
		t.Helper()
		conn, err := net.Dial("tcp", d.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		tc := tls.Client(conn, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true})
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		tc.Handshake()
		tc.Read(make([]byte, 1)) // the server's verdict arrives after the client's handshake
		waitFor(t, want, func() bool { return contains(d.logs.String(), want) })
	}
	cert, err := selfSignedCert(testKey(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	der := bytes.Clone(cert.Certificate[0])
	der[len(der)-1] ^= 1
	cert.Certificate[0], cert.Leaf = der, nil
	try(cert, "not self-signed")

	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &small.PublicKey, small)
	if err != nil {
		t.Fatal(err)
	}
	try(tls.Certificate{Certificate: [][]byte{der}, PrivateKey: small}, "not a valid account key")
	if len(d.Peers()) != 0 {
		t.Fatal("peer registered")
	}
}

// A node of protocol 1 (a HEY in clear) is refused with a message saying
// which protocol it spoke, and so is a newer protocol inside TLS.
func TestOtherProtocolVersionRefused(t *testing.T) {
	d := startNode(t, 1, nil)
	old := dialPlain(t, d.Addr())
	old.send(t, testHello(testKey(t, 2), testNetworkID, testChainID, ""))
	old.waitClosed(t)
	waitFor(t, "protocol 1 refusal", func() bool { return contains(d.logs.String(), "peer speaks protocol 1") })

	for _, tc := range []struct {
		version uint64
		log     string
	}{
		{wire.ProtocolVersion + 1, "upgrade this node"},
		{2, "peer speaks protocol 2, this node 3; upgrade the peer"}, // TLS, but no compact blocks
	} {
		h := testHello(testKey(t, 2), testNetworkID, testChainID, "")
		h.Protocol = tc.version
		if _, ack := dialRaw(t, d.Addr(), testKey(t, 2), h); ack != "" {
			t.Fatalf("protocol %d got %q", tc.version, ack)
		}
		waitFor(t, fmt.Sprintf("protocol %d refusal", tc.version), func() bool { return contains(d.logs.String(), tc.log) })
	}
	if len(d.bans) != 0 {
		t.Fatal("an honest peer of another version was banned")
	}
	// Our dialer names the likely cause when the peer hangs up mid-TLS.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Read(make([]byte, 8))
			c.Close()
		}
	}()
	if err := d.connect(context.Background(), l.Addr().String()); err == nil || !contains(err.Error(), "protocol 1") {
		t.Fatalf("dialling a protocol 1 node: %v", err)
	}
}

// Bans follow the proven identity, not a claimed listen port. Before: on
// loopback the ban key was the listen port a HEY claimed, so an attacker
// claiming validator A's port and sending one bad frame got A banned.
func TestBanByProvenAddressNotClaimedPort(t *testing.T) {
	valA := startNode(t, 0, nil)
	d := startNode(t, 1, nil)
	evil := testKey(t, 2)
	rp, ack := dialRaw(t, d.Addr(), evil, testHello(evil, testNetworkID, testChainID, valA.Addr()))
	if ack != wire.HdrHelloAck {
		t.Fatalf("handshake answer %q", ack)
	}
	rp.send(t, &wire.Block{Block: []byte("bad block")})
	rp.waitClosed(t)
	waitFor(t, "ban", func() bool { return d.isBanned(addrBanKey(evil.Address())) })
	link(t, valA, d) // A, whose port the attacker claimed, still connects
}

// A peer that sends one TXN with a bad transaction is banned by its
// proven address, and a fresh connection (claiming another listen port,
// as a new nonce did before) is refused. Before: on loopback the ban was
// keyed by the claimed port, so it reconnected at once.
func TestBadTxnBansProvenPeerAcrossReconnects(t *testing.T) {
	d := startNode(t, 1, nil)
	evil := testKey(t, 2)
	rp, ack := dialRaw(t, d.Addr(), evil, testHello(evil, testNetworkID, testChainID, "127.0.0.1:41010"))
	if ack != wire.HdrHelloAck {
		t.Fatalf("handshake answer %q", ack)
	}
	txs := [][]byte{[]byte("bad signature")}
	for i := range 5000 {
		txs = append(txs, fmt.Appendf(nil, "tx %d", i))
	}
	rp.send(t, &wire.Txs{Txs: txs})
	rp.waitClosed(t)
	waitFor(t, "ban", func() bool { return d.isBanned(addrBanKey(evil.Address())) })
	if _, ack := dialRaw(t, d.Addr(), evil, testHello(evil, testNetworkID, testChainID, "127.0.0.1:41011")); ack != "" {
		t.Fatalf("banned peer reconnected and got %q", ack)
	}
	if d.h.txCount() != 0 {
		t.Fatalf("%d transactions of the banned batch accepted", d.h.txCount())
	}
}

// Two nodes that dial each other at once keep one link, the one dialled
// by the lower address, on both sides.
func TestSimultaneousDialKeepsLowerDialler(t *testing.T) {
	a := startNode(t, 0, nil)
	b := startNode(t, 1, nil)
	var wg sync.WaitGroup
	wg.Go(func() { a.connect(context.Background(), b.Addr()) })
	wg.Go(func() { b.connect(context.Background(), a.Addr()) })
	wg.Wait()
	waitFor(t, "one link", func() bool {
		pa, pb := a.Peers(), b.Peers()
		return len(pa) == 1 && len(pb) == 1 && pa[0].Inbound != pb[0].Inbound
	})
	ka, kb := testKey(t, 0).Address(), testKey(t, 1).Address()
	lower := a
	if bytes.Compare(kb[:], ka[:]) < 0 {
		lower = b
	}
	time.Sleep(200 * time.Millisecond)
	if p := lower.Peers(); len(p) != 1 || p[0].Inbound {
		t.Fatalf("the lower address did not keep its own link: %+v", p)
	}
}

// Before the handshake the frame limit is the handshake's size. Before:
// a connection could declare a 4 MiB HEY and the node allocated it, so
// 63 stalled connections took ~290 MiB of heap.
func TestStalledUnauthenticatedConnectionsHoldLittleMemory(t *testing.T) {
	d := startNode(t, 1, func(c *Config) { c.MaxInbound = 200; c.HandshakeTimeout = 10 * time.Second })
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var lying [7]byte
	binary.LittleEndian.PutUint32(lying[:], wire.DefaultMaxFrame-1)
	copy(lying[4:], wire.HdrHello)
	for range 64 {
		rp := dialPlain(t, d.Addr())
		rp.conn.Write(append(lying[:], 0x9b, 0x02)) // then stall
	}
	// Inside TLS, a HEY declaring a full frame is refused at once.
	rp, err := dialTLS(t, d.Addr(), testKey(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	rp.conn.Write(append(lying[:], 0x9b))
	rp.waitClosed(t)
	waitFor(t, "frame refused", func() bool { return contains(d.logs.String(), "frame too large") })
	time.Sleep(300 * time.Millisecond)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 32<<20 {
		t.Fatalf("64 stalled unauthenticated connections grew the heap by %d MiB", grew>>20)
	}
}

// Connections still in their handshake are bounded in number.
func TestHandshakeSlotsBounded(t *testing.T) {
	d := startNode(t, 1, func(c *Config) { c.MaxHandshakes = 4; c.HandshakeTimeout = 5 * time.Second })
	var closed atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		rp := dialPlain(t, d.Addr())
		wg.Go(func() {
			rp.conn.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := rp.conn.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
				closed.Add(1)
			}
		})
	}
	wg.Wait()
	if c := closed.Load(); c < 6 {
		t.Fatalf("%d of 10 silent connections closed within a second, want >= 6 (4 handshake slots)", c)
	}
	if !contains(d.logs.String(), "connections in handshake") {
		t.Error("no reason logged")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// 20 handshaken peers ask for block ranges as fast as they may and never
// read. Before: each peer's send queue grew to 32 MiB (a node went from
// 150 MiB to 1.1 GiB RSS in 3 s). After: answers wait for room in the
// peer's budget (2 MiB for inbound non-validators, MaxServing answers)
// and the node's (SendBuffer, half for strangers), and an honest peer the
// node dialled is still answered.
func TestNeverReadingRequestersStayWithinSendBudget(t *testing.T) {
	const peers = 20
	d := startNode(t, 1, nil)
	for i := range 1000 {
		d.c.blocks = append(d.c.blocks, fmt.Appendf(bytes.Repeat([]byte{'b'}, 10<<10), "%d", i))
	}
	honest := startNode(t, 0, nil)
	link(t, d, honest) // d dials honest: an outbound peer of d
	keys := make([]*crypto.PrivateKey, peers)
	for i := range keys {
		keys[i] = testKey(t, 2+i)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, k := range keys {
		rp := joinRaw(t, d.Addr(), k)
		wg.Go(func() {
			tick := time.NewTicker(time.Second / 800)
			defer tick.Stop()
			for id := uint64(1); ; id++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				h, body, _ := wire.Encode(&wire.GetBlocks{ReqID: id, From: 0, Count: wire.MaxBlocksPerRequest})
				rp.conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				wire.WriteFrame(rp.conn, h, body) // blocks once d stops reading us
			}
		})
	}
	var peakHeap uint64
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, ms.HeapAlloc)
		for _, p := range d.allPeers() {
			if q := p.answerBytes.Load(); p.stranger && q > int64(d.cfg.InboundSendBuffer)+int64(d.cfg.MaxFrame) {
				t.Errorf("a stranger holds %d answer bytes", q)
			}
			if s := p.serving.Load(); s > int32(d.cfg.MaxServing) {
				t.Errorf("a peer has %d answers queued, limit %d", s, d.cfg.MaxServing)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The honest outbound peer is still served during the flood.
	if _, err := honest.RequestBlocks(context.Background(), d.ID(), 0, 64); err != nil {
		t.Errorf("honest peer during the flood: %v", err)
	}
	close(stop)
	wg.Wait()
	used, peak, limit := d.budget.stats()
	_, speak, slimit := d.strangers.stats()
	t.Logf("send budget: peak %d MiB of %d MiB (strangers %d of %d), now %d; heap +%d MiB",
		peak>>20, limit>>20, speak>>20, slimit>>20, used>>20, (int64(peakHeap)-int64(before.HeapAlloc))>>20)
	if peak > limit || speak > slimit {
		t.Fatalf("send budget exceeded: %d > %d or %d > %d", peak, limit, speak, slimit)
	}
	if peak == 0 {
		t.Fatal("nothing was answered")
	}
	if grew := int64(peakHeap) - int64(before.HeapAlloc); grew > 200<<20 {
		t.Fatalf("heap grew by %d MiB", grew>>20)
	}
}

// A peer whose clock is far off is accepted and logged: TLS, not a
// timestamp, makes the handshake fresh now, and refusing it would cut a
// validator with a skewed clock off from the blocks that correct it.
func TestSkewedClockPeerAcceptedAndLogged(t *testing.T) {
	d := startNode(t, 1, nil)
	h := testHello(testKey(t, 2), testNetworkID, testChainID, "")
	h.TimeMs += uint64(time.Hour / time.Millisecond)
	if _, ack := dialRaw(t, d.Addr(), testKey(t, 2), h); ack != wire.HdrHelloAck {
		t.Fatalf("handshake answer %q", ack)
	}
	waitFor(t, "skew logged", func() bool { return contains(d.logs.String(), "peer clock differs from ours") })
}

// A peer that keeps asking and never reads is dropped once none of its
// answers has been sent for IdleTimeout; its budget is given back.
func TestNeverReadingRequesterDropped(t *testing.T) {
	d := startNode(t, 1, func(c *Config) { c.IdleTimeout = time.Second; c.PingInterval = 200 * time.Millisecond })
	for i := range 1000 {
		d.c.blocks = append(d.c.blocks, fmt.Appendf(bytes.Repeat([]byte{'b'}, 10<<10), "%d", i))
	}
	k := testKey(t, 2)
	rp := joinRaw(t, d.Addr(), k)
	go func() {
		for id := uint64(1); ; id++ {
			h, body, _ := wire.Encode(&wire.GetBlocks{ReqID: id, From: 0, Count: wire.MaxBlocksPerRequest})
			rp.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if wire.WriteFrame(rp.conn, h, body) != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	waitFor(t, "dropped", func() bool {
		l := d.logs.String()
		// Whichever notices first: reserve, the idle watch or the socket deadline.
		return contains(l, "answers not read") || contains(l, "write: timed out") || contains(l, "i/o timeout")
	})
	waitFor(t, "budget returned", func() bool { used, _, _ := d.budget.stats(); return used == 0 && len(d.Peers()) == 0 })
	if d.isBanned(addrBanKey(k.Address())) {
		t.Fatal("a slow reader was banned")
	}
}

// A non-validator may send at most UnaskedFrame unasked; the same frame
// from a validator, or as an answer to our request, is fine. Before: one
// frame limit for everyone, so raising it for validators' large sync
// answers would have let any stranger make the node allocate as much.
func TestUnaskedFrameLimit(t *testing.T) {
	validator := testKey(t, 3)
	d := startNode(t, 1, func(c *Config) {
		c.UnaskedFrame = 64 << 10
		c.Validators = []crypto.Address{validator.Address()}
	})
	big := &wire.Block{Block: bytes.Repeat([]byte{0x94}, 100<<10)}
	for _, tc := range []struct {
		name   string
		key    *crypto.PrivateKey
		banned bool
	}{
		{"stranger", testKey(t, 2), true},
		{"validator", validator, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rp := joinRaw(t, d.Addr(), tc.key)
			h, body, err := wire.Encode(big)
			if err != nil {
				t.Fatal(err)
			}
			// The node may close while the body is still being written: it
			// refuses the frame from its length and header alone.
			if err := wire.WriteFrame(rp.conn, h, body); err != nil && !tc.banned {
				t.Fatal(err)
			}
			if tc.banned {
				rp.waitClosed(t)
				waitFor(t, "ban", func() bool { return d.isBanned(addrBanKey(tc.key.Address())) })
				return
			}
			time.Sleep(200 * time.Millisecond)
			if !d.hasPeerAddr(tc.key.Address()) {
				t.Fatal("validator dropped for a large frame")
			}
		})
	}
	// A stranger's answer to our request may be as large as MaxFrame.
	key := testKey(t, 4)
	rp := joinRaw(t, d.Addr(), key)
	waitFor(t, "stranger registered", func() bool { return d.hasPeerAddr(key.Address()) })
	var peerID uint64
	for _, p := range d.Peers() {
		if p.NodeAddress == key.Address() {
			peerID = p.ID
		}
	}
	got := make(chan [][]byte, 1)
	go func() {
		blocks, _ := d.RequestBlocks(context.Background(), peerID, 2, 1)
		got <- blocks
	}()
	req := rp.readUntil(t, wire.HdrGetBlocks).(*wire.GetBlocks)
	rp.send(t, &wire.Blocks{ReqID: req.ReqID, Blocks: [][]byte{big.Block}})
	if blocks := <-got; len(blocks) != 1 || len(blocks[0]) != len(big.Block) {
		t.Fatalf("large answer from a stranger: %d blocks", len(blocks))
	}
}

func (n *testNode) hasPeerAddr(a crypto.Address) bool {
	for _, p := range n.Peers() {
		if p.NodeAddress == a {
			return true
		}
	}
	return false
}
