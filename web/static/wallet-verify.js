// wallet-verify.js — the wallet's "trust no node" check: the page fetches
// the network's genesis.json from the node once (GET /genesis), shows its
// SHA-256 for the user to compare with the one they were given, and checks
// the wallet's balance from GET /accounts/{address}?proof=true against it
// with verify.js, as `ccoin verify-account` does.

import { parseJSON } from "./api.js";
import { loadGenesis, summary, verifyAccount, VerifyError } from "./verify.js";

let genesis = null; // a promise of loadGenesis' result, fetched once per page

async function fetchText(url) {
  const res = await fetch(url, { cache: "no-store", headers: { Accept: "application/json" } });
  const text = await res.text();
  return { res, text };
}

function genesisOnce(api) {
  if (!genesis) {
    genesis = (async () => {
      const res = await fetch(api.url("/genesis"), { cache: "no-store" });
      if (!res.ok) throw new Error(`the node does not serve its genesis.json (HTTP ${res.status})`);
      return loadGenesis(new Uint8Array(await res.arrayBuffer())); // its exact bytes: their hash is what the user compares
    })();
    genesis.catch(() => (genesis = null)); // retry on the next refresh
  }
  return genesis;
}

function show(el, state, text, extra = {}) {
  if (!el) return;
  el.textContent = text;
  el.dataset.state = state;
  for (const k of ["check", "balance", "block"]) {
    if (extra[k] !== undefined) el.dataset[k] = String(extra[k]);
    else delete el.dataset[k];
  }
}

const inFlight = new Map(); // address -> promise, so block events do not pile up checks

/**
 * verifyWallet checks address's balance and writes the outcome into the
 * elements with ids verifiedId and genesisId: data-state is "verified",
 * "failed" (data-check names the check), "unavailable" (no certificate yet)
 * or "pending".
 */
export function verifyWallet(api, address, verifiedId = "wallet-verified", genesisId = "wallet-genesis") {
  if (inFlight.has(address)) return inFlight.get(address);
  const run = (async () => {
    const el = () => document.getElementById(verifiedId);
    let g;
    try {
      g = await genesisOnce(api);
    } catch (e) {
      const check = e instanceof VerifyError ? e.check : "genesis";
      show(el(), "failed", `not verified: check ${check}: ${e instanceof VerifyError ? e.detail : e.message}`, { check });
      return;
    }
    const gel = document.getElementById(genesisId);
    if (gel) {
      gel.textContent = `SHA-256 ${g.fileHash} · chain id ${g.chainId} · ${g.miners.length} miners, quorum ${g.quorum} (${g.finality})`;
      gel.dataset.hash = g.fileHash;
      gel.dataset.chainId = g.chainId;
    }
    let answer;
    try {
      const { res, text } = await fetchText(api.url(`/accounts/${encodeURIComponent(address)}?proof=true`));
      let json = null;
      try {
        json = parseJSON(text);
      } catch {
        json = null;
      }
      if (res.status === 503 && json && json.error && json.error.code === "proof_unavailable") {
        show(el(), "unavailable", "not verified yet: the node has no finality certificate of its final block");
        return;
      }
      if (!res.ok) throw new VerifyError("answer", `HTTP ${res.status}${json && json.error ? ": " + json.error.message : ""}`);
      answer = json;
    } catch (e) {
      if (e instanceof VerifyError) show(el(), "failed", `verification failed: ${e.message}`, { check: e.check });
      else show(el(), "failed", `not verified: ${e.message}`, { check: "answer" });
      return;
    }
    try {
      const r = await verifyAccount(g, answer, address);
      show(el(), "verified", `${r.balance} coins (${r.found ? "present" : "absent"}, nonce ${r.nonce}): ${summary(r)}`, { balance: r.balance, block: r.block });
    } catch (e) {
      const check = e instanceof VerifyError ? e.check : "answer";
      show(el(), "failed", `verification failed: ${e.message}`, { check });
    }
  })();
  inFlight.set(address, run);
  run.finally(() => inFlight.delete(address));
  return run;
}
