package discovery

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"ccoin/ccoin/crypto"
)

// Operations named in the signed text.
const (
	OpAdd    = "add"
	OpRemove = "remove"
)

// Node types a registration may announce.
const (
	NodeValidator = "validator"
	NodeBasic     = "basic"
)

// Limits on entry fields, so one entry stays small.
const (
	maxHostLen      = 253
	maxPublicKeyB64 = 1024 // an RSA-2048 PKIX DER is 294 bytes
	maxSignatureB64 = 512  // an RSA-2048 signature is 256 bytes
	chainIDLen      = 64
)

// Entry is one registration as it travels in JSON. Signature is omitted in
// answers that list peers.
type Entry struct {
	Address   string `json:"address"`
	Host      string `json:"host"`
	Port      int    `json:"port"`
	NetworkID uint64 `json:"network_id"`
	ChainID   string `json:"chain_id"`
	NodeType  string `json:"node_type"`
	PublicKey string `json:"public_key,omitempty"`
	Timestamp int64  `json:"timestamp"`
	Signature string `json:"signature,omitempty"`
}

// HostPort is the dialable "host:port" of the entry.
func (e Entry) HostPort() string { return joinHostPort(e.Host, e.Port) }

func joinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// Time is the entry's timestamp as a time.
func (e Entry) Time() time.Time { return time.UnixMilli(e.Timestamp) }

// SigningText is the canonical text a registration (op "add") or removal (op
// "remove") signs. Fields appear exactly as transmitted; Validate guarantees
// none of them can contain a newline, so the text is unambiguous.
func SigningText(op string, e Entry) string {
	var b strings.Builder
	b.Grow(192)
	b.WriteString("ccoin-discovery\n")
	b.WriteString(op)
	b.WriteByte('\n')
	b.WriteString(e.Address)
	b.WriteByte('\n')
	b.WriteString(e.Host)
	b.WriteByte('\n')
	b.WriteString(strconv.Itoa(e.Port))
	b.WriteByte('\n')
	b.WriteString(strconv.FormatUint(e.NetworkID, 10))
	b.WriteByte('\n')
	b.WriteString(e.ChainID)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatInt(e.Timestamp, 10))
	return b.String()
}

// SigningDigest is the SHA-256 of SigningText, the value passed to Sign/Verify.
func SigningDigest(op string, e Entry) [32]byte {
	return sha256.Sum256([]byte(SigningText(op, e)))
}

// Sign fills Address and PublicKey from key and signs the entry for op. The
// caller sets Timestamp first.
func (e *Entry) Sign(op string, key *crypto.PrivateKey) error {
	e.Address = key.Address().String()
	e.PublicKey = base64.StdEncoding.EncodeToString(key.Public().DER())
	sig, err := key.Sign(SigningDigest(op, *e))
	if err != nil {
		return err
	}
	e.Signature = base64.StdEncoding.EncodeToString(sig)
	return nil
}

// Validate checks the shape of the entry for op, without cryptography or
// clocks. Addresses and chain ids must be lowercase hex so one node has one
// spelling and one signed text.
func (e Entry) Validate(op string) error {
	if op != OpAdd && op != OpRemove {
		return fmt.Errorf("%w: unknown op %q", ErrBadRequest, op)
	}
	a, err := crypto.ParseAddress(e.Address)
	if err != nil || a.String() != e.Address {
		return fmt.Errorf("%w: address must be 40 lowercase hex characters", ErrBadRequest)
	}
	if err := validateHost(e.Host); err != nil {
		return err
	}
	if e.Port < 1 || e.Port > 65535 {
		return fmt.Errorf("%w: port %d out of range", ErrBadRequest, e.Port)
	}
	if !isLowerHex(e.ChainID, chainIDLen) {
		return fmt.Errorf("%w: chain_id must be 64 lowercase hex characters", ErrBadRequest)
	}
	switch e.NodeType {
	case NodeValidator, NodeBasic:
	case "":
		// A removal does not need to say what it removes.
		if op == OpAdd {
			return fmt.Errorf("%w: node_type is required", ErrBadRequest)
		}
	default:
		return fmt.Errorf("%w: node_type must be %q or %q", ErrBadRequest, NodeValidator, NodeBasic)
	}
	if e.Timestamp <= 0 {
		return fmt.Errorf("%w: timestamp must be positive unix milliseconds", ErrBadRequest)
	}
	if e.PublicKey == "" || len(e.PublicKey) > maxPublicKeyB64 {
		return fmt.Errorf("%w: public_key missing or too long", ErrBadRequest)
	}
	if e.Signature == "" || len(e.Signature) > maxSignatureB64 {
		return fmt.Errorf("%w: signature missing or too long", ErrBadRequest)
	}
	return nil
}

// keyParser is what Verify needs to turn DER into a key; *crypto.KeyCache
// satisfies it.
type keyParser interface {
	Parse(der []byte) (*crypto.PublicKey, error)
}

type plainParser struct{}

func (plainParser) Parse(der []byte) (*crypto.PublicKey, error) { return crypto.ParsePublicKey(der) }

// Verify checks the shape, that the public key hashes to the address, and the
// signature for op. It does not look at clocks.
func (e Entry) Verify(op string) error { return e.verify(op, plainParser{}) }

func (e Entry) verify(op string, keys keyParser) error {
	if err := e.Validate(op); err != nil {
		return err
	}
	der, err := base64.StdEncoding.DecodeString(e.PublicKey)
	if err != nil {
		return fmt.Errorf("%w: public_key is not base64", ErrBadRequest)
	}
	sig, err := base64.StdEncoding.DecodeString(e.Signature)
	if err != nil {
		return fmt.Errorf("%w: signature is not base64", ErrBadRequest)
	}
	if crypto.AddressOf(der).String() != e.Address {
		return fmt.Errorf("%w: key hashes to another address", ErrForbidden)
	}
	pub, err := keys.Parse(der)
	if err != nil {
		return fmt.Errorf("%w: public_key: %v", ErrBadRequest, err)
	}
	if err := pub.Verify(SigningDigest(op, e), sig); err != nil {
		return fmt.Errorf("%w: %s", ErrBadSignature, op)
	}
	return nil
}

// validateHost accepts an IP address or a DNS-style name (docker service
// names included). It refuses addresses nobody can dial, and every character
// that could break the signed text or a log line.
func validateHost(h string) error {
	if h == "" || len(h) > maxHostLen {
		return fmt.Errorf("%w: host missing or too long", ErrBadRequest)
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		if ip.Zone() != "" || ip.IsUnspecified() || ip.IsMulticast() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return fmt.Errorf("%w: host %s is not dialable", ErrBadRequest, h)
		}
		return nil
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		default:
			return fmt.Errorf("%w: host must be an IP address or a host name", ErrBadRequest)
		}
	}
	if h[0] == '-' || h[0] == '.' {
		return fmt.Errorf("%w: host must be an IP address or a host name", ErrBadRequest)
	}
	return nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// validChainFilter checks a chain_id filter; empty means "any".
func validChainFilter(s string) bool { return s == "" || isLowerHex(s, chainIDLen) }
