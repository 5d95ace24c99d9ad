// wallet-verify.js — the wallet's "trust no node" check: the page fetches
// the network's genesis.json from the node once (GET /genesis), shows its
// SHA-256 for the user to compare with the one they were given, and checks
// the wallet's balance from GET /accounts/{address}?proof=true against it
// with verify.js, as `ccoin verify-account` does.

import { parseJSON } from "./api.js";
import { loadGenesis, summary, verifyAccount, VerifyError } from "./verify.js";

let genesis = null; // a promise of loadGenesis' result, fetched once per page
let pasted = false; // genesis is the user's own file, not the node's
let api0 = null; // the Api the wallet uses, for the pasted genesis' nonce hint
let generation = 0; // bumped when the genesis changes: older checks then write nothing

async function fetchText(url) {
  const res = await fetch(url, { cache: "no-store", headers: { Accept: "application/json" } });
  const text = await res.text();
  return { res, text };
}

// genesisNonce is block 1's pow_nonce as the node says, only a hint that
// spares a long proof-of-work search (see loadGenesis); null if unknown.
async function genesisNonce(api) {
  try {
    const b = await api.block(1);
    return b && (typeof b.pow_nonce === "number" || typeof b.pow_nonce === "bigint") ? b.pow_nonce : null;
  } catch {
    return null;
  }
}

function genesisOnce(api) {
  if (!genesis) {
    genesis = (async () => {
      const res = await fetch(api.url("/genesis"), { cache: "no-store" });
      if (!res.ok) throw new Error(`the node does not serve its genesis.json (HTTP ${res.status})`);
      const bytes = new Uint8Array(await res.arrayBuffer()); // its exact bytes: their hash is what the user compares
      return loadGenesis(bytes, { nonceHint: await genesisNonce(api) });
    })();
    const mine = genesis;
    mine.catch(() => genesis === mine && (genesis = null)); // retry on the next refresh
  }
  return genesis;
}

/**
 * useGenesis makes the checks rest on genesis.json text the user pasted
 * instead of the node's GET /genesis; "" goes back to the node's.
 */
export function useGenesis(text) {
  generation++;
  pasted = !!text;
  genesis = text ? genesisNonce(api0).then((nonceHint) => loadGenesis(text, { nonceHint })) : null;
  if (genesis) genesis.catch(() => {});
}

/**
 * genesisPasteBox is the wallet's "use my own genesis.json" control; after
 * a change it calls refresh.
 */
export function genesisPasteBox(refresh) {
  const box = document.createElement("details");
  box.id = "wallet-genesis-paste";
  const sum = document.createElement("summary");
  sum.textContent = "Check against a genesis.json you have instead of the node's";
  const area = document.createElement("textarea");
  area.id = "wallet-genesis-text";
  area.rows = 6;
  area.spellcheck = false;
  area.placeholder = '{"network_id": …, "miners": […], …}';
  const use = document.createElement("button");
  use.type = "button";
  use.id = "wallet-genesis-use";
  use.textContent = "Use this genesis";
  use.addEventListener("click", () => {
    useGenesis(area.value.trim() ? area.value : "");
    refresh();
  });
  const reset = document.createElement("button");
  reset.type = "button";
  reset.id = "wallet-genesis-node";
  reset.textContent = "Use the node's";
  reset.addEventListener("click", () => {
    area.value = "";
    useGenesis("");
    refresh();
  });
  const actions = document.createElement("div");
  actions.className = "actions";
  actions.append(use, reset);
  box.append(sum, area, actions);
  return box;
}

function show(el, state, text, extra = {}) {
  if (!el) return;
  el.textContent = text;
  el.dataset.state = state;
  for (const k of ["check", "balance", "block", "genesis"]) {
    if (extra[k] !== undefined) el.dataset[k] = String(extra[k]);
    else delete el.dataset[k];
  }
}

const inFlight = new Map(); // address -> {gen, run}, so block events do not pile up checks

/**
 * verifyWallet checks address's balance and writes the outcome into the
 * elements with ids verifiedId and genesisId: data-state is "verified",
 * "failed" (data-check names the check), "unavailable" (no certificate yet)
 * or "pending"; data-genesis is the SHA-256 of the genesis file the
 * outcome rests on.
 */
export function verifyWallet(api, address, verifiedId = "wallet-verified", genesisId = "wallet-genesis") {
  api0 = api;
  const cur = inFlight.get(address);
  if (cur && cur.gen === generation) return cur.run;
  const gen = generation;
  const out = (state, text, extra) => gen === generation && show(document.getElementById(verifiedId), state, text, extra);
  const run = (async () => {
    let g;
    try {
      g = await genesisOnce(api);
    } catch (e) {
      const check = e instanceof VerifyError ? e.check : "genesis";
      out("failed", `not verified: check ${check}: ${e instanceof VerifyError ? e.detail : e.message}`, { check, genesis: "" });
      return;
    }
    const gel = document.getElementById(genesisId);
    if (gel && gen === generation) {
      gel.dataset.source = pasted ? "pasted" : "node";
      gel.textContent = `${pasted ? "your file" : "the node's file"}: SHA-256 ${g.fileHash} · chain id ${g.chainId} · ${g.miners.length} miners, quorum ${g.quorum} (${g.finality})`;
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
        out("unavailable", "not verified yet: the node has no finality certificate of its final block", { genesis: g.fileHash });
        return;
      }
      if (!res.ok) throw new VerifyError("answer", `HTTP ${res.status}${json && json.error ? ": " + json.error.message : ""}`);
      answer = json;
    } catch (e) {
      if (e instanceof VerifyError) out("failed", `verification failed: ${e.message}`, { check: e.check, genesis: g.fileHash });
      else out("failed", `not verified: ${e.message}`, { check: "answer", genesis: g.fileHash });
      return;
    }
    try {
      const r = await verifyAccount(g, answer, address);
      out("verified", `${r.balance} coins (${r.found ? "present" : "absent"}, nonce ${r.nonce}): ${summary(r)}`, { balance: r.balance, block: r.block, genesis: g.fileHash });
    } catch (e) {
      out("failed", `verification failed: ${e.message}`, { check: e instanceof VerifyError ? e.check : "answer", genesis: g.fileHash });
    }
  })();
  inFlight.set(address, { gen, run });
  run.finally(() => inFlight.get(address)?.run === run && inFlight.delete(address));
  return run;
}
