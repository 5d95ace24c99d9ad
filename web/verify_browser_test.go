package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"ccoin/api"
	"ccoin/ccoin/consensus"
	"ccoin/ccoin/crypto"
	"ccoin/ccoin/genesis"
	"ccoin/ccoin/snapshot"
	"ccoin/ccoin/state/smt"
	"ccoin/ccoin/types"
	"ccoin/web/webtest"
)

// The browser's light client (static/verify.js, static/wallet-verify.js)
// against the vectors and against a node that lies.

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

type genesisCase struct {
	GenesisJSON string `json:"genesis_json"`
	SealHex     string `json:"seal_encoding_hex"`
	Difficulty  uint64 `json:"difficulty"`
	StateRoot   string `json:"state_root"`
	PowNonce    uint64 `json:"pow_nonce"`
	ID          string `json:"id"`
	Quorum      int    `json:"quorum"`
}

type finalityVectors struct {
	Genesis struct {
		ChainID string   `json:"chain_id"`
		Miners  []string `json:"miners"`
		Quorum  int      `json:"quorum"`
	} `json:"genesis"`
	Certificate struct {
		EncodingHex string `json:"encoding_hex"`
		FinalID     string `json:"final_id"`
		FinalNumber uint64 `json:"final_number"`
	} `json:"certificate"`
	Refused []struct {
		Comment     string `json:"comment"`
		Reason      string `json:"reason"`
		EncodingHex string `json:"encoding_hex"`
	} `json:"refused_certificates"`
}

func devnetGenesis(t *testing.T) (string, *genesis.Genesis) {
	t.Helper()
	var gv struct {
		Cases []genesisCase `json:"cases"`
	}
	readJSON(t, "../testdata/genesis-vectors.json", &gv)
	text := gv.Cases[0].GenesisJSON
	g, err := genesis.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return text, g
}

// goCheck is the check verify-account names for a certificate encoding:
// "answer" when it does not decode, else the consensus check that fails,
// "" when it verifies.
func goCheck(g *genesis.Genesis, encHex string) string {
	p, err := hex.DecodeString(encHex)
	if err != nil {
		return "answer"
	}
	c, err := types.DecodeCertificate(p)
	if err != nil {
		return "answer"
	}
	if _, _, err := snapshot.VerifyFinal(g, c); err != nil {
		if ch := consensus.FailedCheck(err); ch != "" {
			return string(ch)
		}
		return "?" + err.Error()
	}
	return ""
}

// TestBrowserVerifyVectors runs verify.js in Chromium on every vector it
// can check and compares with the vectors' values and the Go verifier's
// verdicts: genesis blocks (chain id, state root, nonce, quorum), header
// ids and account encodings, the finality certificate and each refused
// one (the same check names as verify-account), and every account proof,
// plus tampered copies of them that must fail.
func TestBrowserVerifyVectors(t *testing.T) {
	browser := webtest.NewBrowser(t)
	vec, _ := loadVectors(t)
	srv := newFakeAPI(t, vec).start()
	ctx := newTab(t, browser)
	open(t, ctx, srv.URL, "#/")

	var gv struct {
		Cases []genesisCase `json:"cases"`
	}
	readJSON(t, "../testdata/genesis-vectors.json", &gv)
	var fv finalityVectors
	readJSON(t, "../testdata/finality-vectors.json", &fv)
	var pv struct {
		Proofs []struct {
			Comment  string   `json:"comment"`
			Root     string   `json:"root"`
			Address  string   `json:"address"`
			Found    bool     `json:"found"`
			ValueHex string   `json:"value_hex"`
			Siblings []string `json:"siblings"`
			Leaf     *struct {
				Address  string `json:"address"`
				ValueHex string `json:"value_hex"`
			} `json:"leaf"`
		} `json:"proofs"`
	}
	readJSON(t, "../testdata/proof-vectors.json", &pv)
	var tv struct {
		Block struct {
			HeaderEncodingHex string `json:"header_encoding_hex"`
			ID                string `json:"id"`
		} `json:"block_with_txs"`
		Accounts []struct {
			Balance     json.Number `json:"balance"`
			Nonce       json.Number `json:"nonce"`
			EncodingHex string      `json:"encoding_hex"`
		} `json:"accounts"`
	}
	{
		raw, err := os.ReadFile("../testdata/vectors.json")
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&tv); err != nil {
			t.Fatal(err)
		}
	}
	if len(gv.Cases) < 3 || len(fv.Refused) < 10 || len(pv.Proofs) < 7 || len(tv.Accounts) < 4 || tv.Block.ID == "" {
		t.Fatalf("vectors missing: %d genesis cases, %d refused certificates, %d proofs, %d accounts", len(gv.Cases), len(fv.Refused), len(pv.Proofs), len(tv.Accounts))
	}
	accounts := make([][2]string, len(tv.Accounts))
	for i, a := range tv.Accounts {
		accounts[i] = [2]string{a.Balance.String(), a.Nonce.String()}
	}
	in, _ := json.Marshal(map[string]any{"genesis": gv.Cases, "finality": fv, "proofs": pv.Proofs,
		"header": tv.Block, "accounts": accounts})

	type genesisOut struct {
		ChainID, StateRoot string
		PowNonce           uint64
		Quorum             int
		Miners             []string
		Err                string
	}
	type proofOut struct {
		OK       string // "" when it verifies, else the error
		Tampered string // the same proof with its first bit of evidence changed
	}
	type out struct {
		Genesis   []genesisOut
		HeaderID  string
		Accounts  []string
		CertID    string
		CertErr   string
		CertVotes int
		Refused   []string
		Proofs    []proofOut
		Hint      struct {
			Right, Ignored, Wrong, Searched, WrongCheck, Plain string
			WrongNonce                                         uint64
		}
	}
	r := webtest.Eval[out](t, ctx, `(async () => {
		const v = await import("/static/verify.js");
		const x = `+string(in)+`;
		const o = {Genesis: [], Refused: [], Proofs: [], Accounts: []};
		for (const c of x.genesis) {
			try {
				const g = await v.loadGenesis(c.genesis_json);
				o.Genesis.push({ChainID: g.chainId, StateRoot: g.stateRoot, PowNonce: g.powNonce, Quorum: g.quorum, Miners: g.miners, Err: ""});
			} catch (e) { o.Genesis.push({Err: String(e.message)}); }
		}
		{
			// The nonce hint: the right one is taken past the search limit;
			// a wrong one that meets the difficulty gives a chain id whose
			// certificates fail check chain; one that does not is ignored.
			const c = x.genesis[0];
			const right = await v.loadGenesis(c.genesis_json, {nonceHint: c.pow_nonce, searchLimit: 100});
			const ignored = await v.loadGenesis(c.genesis_json, {nonceHint: c.pow_nonce + 1, searchLimit: 100});
			const g0 = await v.loadGenesis(c.genesis_json);
			let next = c.pow_nonce + 1;
			const seal = v.unhex(c.seal_encoding_hex);
			while (!(await v.powHash(seal, next)).slice(0, 2).every((b, i) => i === 0 ? b === 0 : b >> 4 === 0)) next++;
			const wrong = await v.loadGenesis(c.genesis_json, {nonceHint: next, searchLimit: 100});
			const searched = await v.loadGenesis(c.genesis_json, {nonceHint: next});
			let wrongCheck = "";
			try { await v.verifyCertificate(wrong, x.finality.certificate.encoding_hex); } catch (e) { wrongCheck = e.check; }
			o.Hint = {Right: right.chainId, Ignored: ignored.chainId, Wrong: wrong.chainId, WrongNonce: wrong.powNonce, Searched: searched.chainId, WrongCheck: wrongCheck, Plain: g0.chainId};
		}
		o.HeaderID = await v.headerId(x.header.header_encoding_hex);
		for (const [b, n] of x.accounts) o.Accounts.push(v.hex(v.encodeAccount(BigInt(b), BigInt(n))));
		const g = await v.loadGenesis(x.genesis[0].genesis_json);
		try {
			const c = await v.verifyCertificate(g, x.finality.certificate.encoding_hex);
			o.CertID = c.id; o.CertErr = ""; o.CertVotes = c.voters.length;
		} catch (e) { o.CertErr = e.message; }
		for (const rc of x.finality.refused_certificates) {
			try { await v.verifyCertificate(g, rc.encoding_hex); o.Refused.push(""); }
			catch (e) { o.Refused.push(e.check || ("not a VerifyError: " + e.message)); }
		}
		for (const p of x.proofs) {
			const run = async (p) => {
				try {
					await v.verifyProof(v.unhex(p.root), v.unhex(p.address), p.found ? v.unhex(p.value_hex) : null, p.found,
						p.siblings.map((s) => v.unhex(s)), p.leaf ? {key: v.unhex(p.leaf.address), value: v.unhex(p.leaf.value_hex)} : null);
					return "";
				} catch (e) { return e.message || "error"; }
			};
			const flip = (h) => (h.slice(0, -1) + (h.endsWith("0") ? "1" : "0"));
			// Tamper with what the proof rests on: a sibling, else the
			// claimed value or the other leaf, else the claim itself.
			let bad;
			if (p.siblings.length) bad = {...p, siblings: [flip(p.siblings[0]), ...p.siblings.slice(1)]};
			else if (p.found) bad = {...p, value_hex: flip(p.value_hex)};
			else if (p.leaf) bad = {...p, leaf: {...p.leaf, value_hex: flip(p.leaf.value_hex)}};
			else bad = {...p, root: flip(p.root)};
			o.Proofs.push({OK: await run(p), Tampered: await run(bad)});
		}
		return o;
	})()`)

	for i, c := range gv.Cases {
		got := r.Genesis[i]
		if got.Err != "" || got.ChainID != c.ID || got.StateRoot != c.StateRoot || got.PowNonce != c.PowNonce || got.Quorum != c.Quorum {
			t.Errorf("genesis case %d: got %+v, want id %s root %s nonce %d quorum %d", i, got, c.ID, c.StateRoot, c.PowNonce, c.Quorum)
		}
	}
	if !slices.Equal(r.Genesis[0].Miners, fv.Genesis.Miners) || r.Genesis[0].ChainID != fv.Genesis.ChainID {
		t.Errorf("devnet genesis: miners %v chain %s, want %v %s", r.Genesis[0].Miners, r.Genesis[0].ChainID, fv.Genesis.Miners, fv.Genesis.ChainID)
	}
	c0 := gv.Cases[0]
	if h := r.Hint; h.Plain != c0.ID || h.Right != c0.ID || h.Ignored != c0.ID || h.Searched != c0.ID ||
		h.Wrong == c0.ID || h.WrongNonce <= c0.PowNonce || h.WrongCheck != "chain" {
		t.Errorf("nonce hints: %+v, want chain id %s except for the wrong hint, whose certificate check is chain", h, c0.ID)
	}
	if r.HeaderID != tv.Block.ID {
		t.Errorf("header id %s, want %s", r.HeaderID, tv.Block.ID)
	}
	for i, a := range tv.Accounts {
		if r.Accounts[i] != a.EncodingHex {
			t.Errorf("account %v: encoding %s, want %s", accounts[i], r.Accounts[i], a.EncodingHex)
		}
	}
	if r.CertErr != "" || r.CertID != fv.Certificate.FinalID || r.CertVotes != fv.Genesis.Quorum {
		t.Errorf("certificate: id %s votes %d err %q, want %s with %d votes", r.CertID, r.CertVotes, r.CertErr, fv.Certificate.FinalID, fv.Genesis.Quorum)
	}
	_, g := devnetGenesis(t)
	if goCheck(g, fv.Certificate.EncodingHex) != "" {
		t.Fatal("Go refuses the vector certificate")
	}
	for i, rc := range fv.Refused {
		want := goCheck(g, rc.EncodingHex)
		if want == "" || strings.HasPrefix(want, "?") {
			t.Fatalf("%s: Go's verdict %q", rc.Comment, want)
		}
		if r.Refused[i] != want {
			t.Errorf("refused certificate %q (%s): browser check %q, verify-account's %q", rc.Reason, rc.Comment, r.Refused[i], want)
		}
	}
	for i, p := range pv.Proofs {
		if r.Proofs[i].OK != "" {
			t.Errorf("proof %q: %s", p.Comment, r.Proofs[i].OK)
		}
		if r.Proofs[i].Tampered == "" {
			t.Errorf("proof %q: a tampered copy verifies", p.Comment)
		}
	}
}

// lyingNode serves the web fake (fakeapi_test.go) with, in front of it, the
// devnet genesis at GET /genesis and account proofs that are real: against
// block 2 of testdata/execution-vectors.json, whose state after the block
// is the tree, with the finality certificate of finality-vectors.json. lie
// alters the JSON answer before it is sent, as a dishonest node would.
func lyingNode(t *testing.T, lie func(j map[string]any)) *httptest.Server {
	t.Helper()
	vec, _ := loadVectors(t)
	back := newFakeAPI(t, vec).start()
	u, err := url.Parse(back.URL)
	if err != nil {
		t.Fatal(err)
	}
	text, g := devnetGenesis(t)
	var fv finalityVectors
	readJSON(t, "../testdata/finality-vectors.json", &fv)
	var ev struct {
		PostState []struct {
			Address string `json:"address"`
			Balance uint64 `json:"balance"`
			Nonce   uint64 `json:"nonce"`
		} `json:"post_state"`
	}
	readJSON(t, "../testdata/execution-vectors.json", &ev)
	raw, err := hex.DecodeString(fv.Certificate.EncodingHex)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := types.DecodeCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	store := smt.NewMemStore()
	tree := smt.New(store, 0)
	state := map[crypto.Address]types.Account{}
	var ups []smt.Update
	for _, a := range ev.PostState {
		addr, err := crypto.ParseAddress(a.Address)
		if err != nil {
			t.Fatal(err)
		}
		state[addr] = types.Account{Balance: a.Balance, Nonce: a.Nonce}
		ups = append(ups, smt.Update{Key: addr, Value: state[addr].Encode(nil)})
	}
	root, err := tree.Update(smt.Hash{}, ups, store)
	if err != nil {
		t.Fatal(err)
	}
	if types.Hash(root) != cert.Header.StateRoot {
		t.Fatalf("execution vectors' post state root %x is not the certified block's %s", root, cert.Header.StateRoot)
	}
	prove := func(a crypto.Address) api.AccountProof {
		_, found, proof, err := tree.Prove(root, a)
		if err != nil {
			t.Error(err)
		}
		p := api.AccountProof{Address: a, Found: found, Block: cert.Header.Number, BlockID: cert.Header.ID(),
			StateRoot: cert.Header.StateRoot, Certificate: cert}
		if found {
			p.Balance, p.Nonce = state[a].Balance, state[a].Nonce
		}
		for _, s := range proof.Siblings {
			p.Siblings = append(p.Siblings, types.Hash(s))
		}
		if proof.Leaf != nil {
			k := crypto.Address(proof.Leaf.Key)
			p.LeafKey, p.LeafValue = &k, proof.Leaf.Value
		}
		// The fixture is honest: Go's verifier accepts it.
		sp := &snapshot.AccountProof{Address: a, Found: found, Account: state[a], Proof: proof, Cert: cert}
		if _, err := snapshot.VerifyAccount(g, sp); err != nil {
			t.Errorf("Go refuses the honest proof of %s: %v", a, err)
		}
		return p
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /genesis", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(text))
	})
	proxy := httputil.NewSingleHostReverseProxy(u)
	mux.HandleFunc("GET /accounts/{addr}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("proof") != "true" {
			proxy.ServeHTTP(w, r)
			return
		}
		a, err := crypto.ParseAddress(r.PathValue("addr"))
		if err != nil {
			apiError(w, 400, "bad_address", err.Error())
			return
		}
		body, _ := json.Marshal(api.AccountProofToJSON(prove(a)))
		var j map[string]any
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.UseNumber()
		if err := dec.Decode(&j); err != nil {
			t.Error(err)
		}
		if lie != nil {
			lie(j)
		}
		writeJSON(w, 200, j)
	})
	mux.Handle("/", proxy)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// reencode replaces the certificate's raw encoding with c's (the JSON
// convenience fields are left as they were: the wallet must not read them).
func reencode(t *testing.T, j map[string]any, edit func(c *types.Certificate)) {
	cj := j["certificate"].(map[string]any)
	raw, err := hex.DecodeString(cj["raw"].(string))
	if err != nil {
		t.Fatal(err)
	}
	c, err := types.DecodeCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	edit(c)
	cj["raw"] = hex.EncodeToString(c.Encode(nil))
}

// TestBrowserWalletVerifies: the wallet shows its balance verified against
// finality when the node is honest (present and absent accounts), and names
// the failing check, as verify-account does, when the node lies.
func TestBrowserWalletVerifies(t *testing.T) {
	browser := webtest.NewBrowser(t)
	vec, _ := loadVectors(t)
	// The vector wallet received 750 in block 2 and sent once.
	const wantBalance = "750"
	devnetText, _ := devnetGenesis(t)
	var gv struct {
		Cases []genesisCase `json:"cases"`
	}
	readJSON(t, "../testdata/genesis-vectors.json", &gv)
	otherText := gv.Cases[1].GenesisJSON
	flip := func(h string) string {
		return h[:len(h)-1] + map[bool]string{true: "1", false: "0"}[strings.HasSuffix(h, "0")]
	}
	cases := []struct {
		name     string
		lie      func(t *testing.T, j map[string]any)
		check    string // "" = verified
		freshKey bool   // a new key: an absent account
		paste    string // genesis.json text the user pastes instead of trusting the node's
	}{
		{name: "honest", check: ""},
		{name: "honest absent account", check: "", freshKey: true},
		{name: "balance raised", check: "merkle_path", lie: func(t *testing.T, j map[string]any) { j["balance"] = json.Number("1000750") }},
		{name: "sibling altered", check: "merkle_path", lie: func(t *testing.T, j map[string]any) {
			s := j["siblings"].([]any)
			s[len(s)-1] = flip(s[len(s)-1].(string))
		}},
		{name: "present account said absent", check: "merkle_path", lie: func(t *testing.T, j map[string]any) {
			j["found"], j["balance"], j["nonce"] = false, json.Number("0"), json.Number("0")
		}},
		{name: "vote dropped", check: "quorum", lie: func(t *testing.T, j map[string]any) {
			reencode(t, j, func(c *types.Certificate) { c.Votes = c.Votes[:1] })
		}},
		{name: "vote counted twice", check: "distinct_voters", lie: func(t *testing.T, j map[string]any) {
			reencode(t, j, func(c *types.Certificate) { c.Votes[1] = c.Votes[0] })
		}},
		{name: "signature forged", check: "signature", lie: func(t *testing.T, j map[string]any) {
			reencode(t, j, func(c *types.Certificate) {
				c.Votes[1].Signature = append([]byte(nil), c.Votes[0].Signature...)
			})
		}},
		{name: "another header's state root", check: "header_id", lie: func(t *testing.T, j map[string]any) {
			reencode(t, j, func(c *types.Certificate) { c.Header.StateRoot[0] ^= 1 })
		}},
		{name: "JSON state_root of another block", check: "answer", lie: func(t *testing.T, j map[string]any) {
			j["state_root"] = flip(j["state_root"].(string))
		}},
		{name: "answer for another address", check: "answer", lie: func(t *testing.T, j map[string]any) {
			j["address"] = strings.Repeat("ab", 20)
		}},
		// The user's own copy of the devnet genesis (other bytes, same
		// network) verifies; another network's genesis does not.
		{name: "pasted genesis", check: "", paste: compactJSON(t, devnetText)},
		{name: "pasted genesis of another network", check: "chain", paste: otherText},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var lie func(map[string]any)
			if tc.lie != nil {
				lie = func(j map[string]any) { tc.lie(t, j) }
			}
			srv := lyingNode(t, lie)
			ctx := newTab(t, browser)
			open(t, ctx, srv.URL, "#/wallet")
			if tc.freshKey {
				webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("#wallet-create")))
			} else {
				webtest.SetValue(t, ctx, "wallet-import-pem", vec.Key.PrivateKeyPEM)
				webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("#wallet-import")))
			}
			settled := func(hash string) {
				waitFor(t, ctx, `["verified", "failed", "unavailable"].includes(document.getElementById("wallet-verified")?.dataset.state) && document.getElementById("wallet-verified").dataset.genesis === `+webtest.JSString(hash))
			}
			text0 := devnetText
			settled(sha256Hex(text0))
			if tc.paste != "" {
				text0 = tc.paste
				webtest.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("wallet-genesis-paste").open = true`))
				webtest.SetValue(t, ctx, "wallet-genesis-text", tc.paste)
				webtest.Do(t, ctx, chromedp.Click(chromedp.CSS("#wallet-genesis-use")))
				settled(sha256Hex(tc.paste))
				if src := webtest.Eval[string](t, ctx, `document.getElementById("wallet-genesis").dataset.source`); src != "pasted" {
					t.Errorf("genesis source %q, want pasted", src)
				}
			}
			state := webtest.Eval[string](t, ctx, `document.getElementById("wallet-verified").dataset.state`)
			text := webtest.Text(t, ctx, "wallet-verified")
			genesisText := webtest.Text(t, ctx, "wallet-genesis")
			if want := sha256Hex(text0); !strings.Contains(genesisText, want) {
				t.Errorf("genesis shown as %q, want its SHA-256 %s", genesisText, want)
			}
			if tc.check == "" {
				want := "verified against finality (block 2, certificate of 2 miners' votes)"
				if state != "verified" || !strings.Contains(text, want) {
					t.Fatalf("state %s: %q, want %q", state, text, want)
				}
				bal := webtest.Eval[string](t, ctx, `document.getElementById("wallet-verified").dataset.balance`)
				if w := wantBalance; tc.freshKey {
					w = "0"
					if !strings.Contains(text, "absent") || bal != w {
						t.Errorf("fresh key: %q balance %s", text, bal)
					}
				} else if bal != w || !strings.Contains(text, "present") {
					t.Errorf("balance %s (%q), want %s present", bal, text, w)
				}
				return
			}
			check := webtest.Eval[string](t, ctx, `document.getElementById("wallet-verified").dataset.check || ""`)
			if state != "failed" || check != tc.check || !strings.Contains(text, "check "+tc.check) {
				t.Errorf("state %s check %q: %q, want failed check %s", state, check, text, tc.check)
			}
			if strings.Contains(text, "verified against finality") {
				t.Errorf("a lie shown as verified: %q", text)
			}
		})
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
