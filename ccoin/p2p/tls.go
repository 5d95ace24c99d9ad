package p2p

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync/atomic"
	"time"

	"ccoin/ccoin/crypto"
)

// handshakeReadLimit bounds the bytes read from a connection before its
// handshake completes: a TLS 1.3 handshake with a ccoin certificate plus a
// HEY is about 3 KiB, and crypto/tls would otherwise buffer a declared
// handshake message of up to 256 KiB.
const handshakeReadLimit = 32 << 10

// PeerID is the PeerInfo.ID of the process with address a (proven by its
// certificate) and handshake nonce: 8 bytes of SHA-256 over both, so no
// one can choose a nonce that makes another key's ID.
func PeerID(a crypto.Address, nonce uint64) uint64 {
	var b [crypto.AddressLen + 8]byte
	copy(b[:], a[:])
	binary.BigEndian.PutUint64(b[crypto.AddressLen:], nonce)
	h := sha256.Sum256(b[:])
	return binary.BigEndian.Uint64(h[:8])
}

// selfSignedCert makes the node's TLS certificate: self-signed, for the
// account key itself, so its public key is the node's identity (as in
// libp2p's TLS handshake). Peers check the key, not a CA chain, and not
// the validity period, so a skewed clock cannot cut a node off.
func selfSignedCert(k *crypto.PrivateKey) (tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	// The OS clock, not Config.Clock: nothing checks the validity period
	// (see above), so which clock dates the certificate does not matter.
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "ccoin node " + k.Address().String()},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.AddDate(100, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		SignatureAlgorithm:    x509.SHA256WithRSAPSS,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.RSA().PublicKey, k.RSA())
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("p2p: certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("p2p: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k.RSA(), Leaf: leaf}, nil
}

// tlsConfig is shared by both directions: TLS 1.3 only, a certificate
// required from both sides, and no CA: verifyConnection checks that the
// peer's certificate is a self-signed account key. crypto/tls itself
// checks that the peer holds that key (CertificateVerify over both sides'
// fresh randomness), which is what makes a recorded handshake useless.
func (n *Network) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion:             tls.VersionTLS13,
		MaxVersion:             tls.VersionTLS13,
		Certificates:           []tls.Certificate{n.cert},
		ClientAuth:             tls.RequireAnyClientCert,
		InsecureSkipVerify:     true, // no CA and no host name: verifyConnection replaces both
		VerifyConnection:       n.verifyConnection,
		SessionTicketsDisabled: true, // every connection proves its key afresh
	}
}

func (n *Network) verifyConnection(cs tls.ConnectionState) error {
	_, err := n.peerAddress(cs)
	return err
}

// peerAddress derives the peer's address from its certificate: exactly one
// self-signed certificate whose key is a valid account key.
func (n *Network) peerAddress(cs tls.ConnectionState) (crypto.Address, error) {
	if len(cs.PeerCertificates) != 1 {
		return crypto.Address{}, fmt.Errorf("%w: %d certificates, want 1", ErrBadCertificate, len(cs.PeerCertificates))
	}
	c := cs.PeerCertificates[0]
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		return crypto.Address{}, fmt.Errorf("%w: not self-signed: %v", ErrBadCertificate, err)
	}
	der, err := x509.MarshalPKIXPublicKey(c.PublicKey)
	if err != nil {
		return crypto.Address{}, fmt.Errorf("%w: %v", ErrBadCertificate, err)
	}
	pub, err := n.keys.Parse(der) // RSA-2048, e=65537, as every account key
	if err != nil {
		return crypto.Address{}, fmt.Errorf("%w: %v", ErrBadCertificate, err)
	}
	return pub.Address(), nil
}

// rawConn wraps a transport connection under TLS. It replays bytes read
// ahead to recognise old-protocol peers, and until the handshake completes
// it refuses to read more than handshakeReadLimit bytes.
type rawConn struct {
	net.Conn
	pre       []byte
	remaining atomic.Int64 // bytes still allowed; < 0: no limit
}

func newRawConn(c net.Conn) *rawConn {
	r := &rawConn{Conn: c}
	r.remaining.Store(handshakeReadLimit)
	return r
}

var errHandshakeTooLong = errors.New("more than the handshake's size before the handshake completed")

func (c *rawConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		k := copy(p, c.pre)
		c.pre = c.pre[k:]
		return k, nil
	}
	rem := c.remaining.Load()
	if rem == 0 {
		return 0, errHandshakeTooLong
	}
	if rem > 0 && int64(len(p)) > rem {
		p = p[:rem]
	}
	k, err := c.Conn.Read(p)
	if rem > 0 {
		c.remaining.Add(-int64(k))
	}
	return k, err
}

// unlimit lifts the pre-handshake read limit.
func (c *rawConn) unlimit() { c.remaining.Store(-1) }

// peekOldProtocol reads the first bytes of an inbound connection and
// reports whether they are a protocol 1 HEY frame (a length, then "HEY" in
// clear) rather than a TLS ClientHello (whose fifth byte is 0x01).
func (c *rawConn) peekOldProtocol() (bool, error) {
	var b [7]byte
	if _, err := io.ReadFull(c.Conn, b[:]); err != nil {
		return false, err
	}
	c.remaining.Add(-int64(len(b)))
	c.pre = b[:]
	return string(b[4:]) == "HEY", nil
}
