package types

// Account is the state of one address.
type Account struct {
	Balance uint64
	Nonce   uint64 // nonce of the last applied transaction; the next must be Nonce+1
}

// Encode appends the canonical encoding [balance, nonce].
func (a Account) Encode(b []byte) []byte {
	b = appendArray(b, 2)
	b = appendUint(b, a.Balance)
	return appendUint(b, a.Nonce)
}

// DecodeAccount parses a canonical account encoding.
func DecodeAccount(p []byte) (Account, error) {
	r := reader{b: p}
	r.array(2)
	a := Account{Balance: r.uint(), Nonce: r.uint()}
	return a, r.end()
}
