package sim

import (
	_ "embed"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"sync"

	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/types"
)

// The simulator's keys are fixed, not generated: block and transaction ids
// depend on the sealers' and senders' addresses, and fork choice breaks ties
// by id, so a seed replays the same run only with the same keys.
//
//go:embed testdata/keys.pem
var keysPEM []byte

const (
	maxValidators = 7
	nUsers        = 6
	userBalance   = 1_000_000_000
)

var (
	keysOnce sync.Once
	keyList  []*crypto.PrivateKey
	keysErr  error
)

func simKeys() ([]*crypto.PrivateKey, error) {
	keysOnce.Do(func() {
		rest := keysPEM
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			k, err := crypto.DecodePrivateKeyPEM(pem.EncodeToMemory(blk), nil)
			if err != nil {
				keysErr = fmt.Errorf("sim keys: %w", err)
				return
			}
			keyList = append(keyList, k)
		}
		if len(keyList) < maxValidators+nUsers {
			keysErr = fmt.Errorf("sim keys: %d keys, want %d", len(keyList), maxValidators+nUsers)
		}
	})
	return keyList, keysErr
}

// simNet is one network's genesis; runs with the same shape share it.
type simNet struct {
	g   *genesis.Genesis
	raw []byte
}

type netKey struct {
	validators int
	finality   string
	intervalMs uint64
}

type txKey struct {
	chain types.Hash
	user  int
	nonce uint64
}

type signedTx struct {
	tx  *types.Transaction
	raw []byte
}

var (
	cacheMu  sync.Mutex
	netCache = map[netKey]*simNet{}
	// Signing costs ~1.5 ms; runs of one network shape reuse transfers.
	txCache = map[txKey]signedTx{}
)

const genesisTimestamp = 1_700_000_000

func network(validators int, finality string, intervalMs uint64) (*simNet, error) {
	keys, err := simKeys()
	if err != nil {
		return nil, err
	}
	k := netKey{validators, finality, intervalMs}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if n, ok := netCache[k]; ok {
		return n, nil
	}
	f := genesis.File{
		NetworkID: 77,
		Timestamp: genesisTimestamp,
		BlockMining: genesis.BlockMining{
			Interval: float64(intervalMs) / 1000, MaxBound: 200, MinBound: 0, Reward: 5, Difficulty: 1, AllowEmpty: true,
			PlaceholderData: genesis.Placeholder{Kind: "str", Text: "sim"},
		},
		GenesisBlock: genesis.GenesisBlock{Difficulty: 1},
		Alloc:        map[string]genesis.Alloc{},
		Finality:     finality,
	}
	for _, v := range keys[:validators] {
		f.Miners = append(f.Miners, v.Address().String())
	}
	for _, u := range keys[maxValidators : maxValidators+nUsers] {
		f.Alloc[u.Address().String()] = genesis.Alloc{Balance: userBalance}
	}
	raw, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	g, err := genesis.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("sim genesis: %w", err)
	}
	n := &simNet{g: g, raw: raw}
	netCache[k] = n
	return n, nil
}

// userTx is user u's transfer with the given nonce: to the next user, a
// small amount, all fixed so that ids repeat across runs.
func userTx(g *genesis.Genesis, users []*crypto.PrivateKey, u int, nonce uint64) (*types.Transaction, []byte, error) {
	k := txKey{g.ChainID, u, nonce}
	cacheMu.Lock()
	st, ok := txCache[k]
	cacheMu.Unlock()
	if ok {
		return st.tx, st.raw, nil
	}
	tx := &types.Transaction{ChainID: g.ChainID, Nonce: nonce, From: users[u].Address(),
		To: users[(u+1)%len(users)].Address(), Amount: 1 + nonce%7, Time: genesisTimestamp}
	if err := tx.Sign(users[u]); err != nil {
		return nil, nil, err
	}
	raw := tx.Encode(nil)
	cacheMu.Lock()
	txCache[k] = signedTx{tx, raw}
	cacheMu.Unlock()
	return tx, raw, nil
}
