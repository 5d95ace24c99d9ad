// api.js — a small client for the node's JSON API on the same origin, and the
// human wording of every API error code.

// Messages shown to people for each stable error code of the API.
export const ERROR_MESSAGES = {
  bad_json: "The node could not read the request (malformed JSON).",
  bad_request: "The node refused the request as invalid.",
  bad_hex: "An id or address is not valid hexadecimal.",
  bad_address: "That is not a valid address: an address is 40 hexadecimal characters.",
  bad_signature: "The signature does not match the transaction or the key. Nothing was sent.",
  wrong_chain: "This transaction was made for a different network (chain id). Reload the page and try again.",
  nonce_too_low: "This transaction number (nonce) was already used: an earlier transaction from this account is already on the chain.",
  nonce_gap: "An earlier transaction from this account is missing, so this one cannot be accepted yet (nonce gap).",
  nonce_taken: "Another transaction with the same nonce is already waiting in the pool.",
  insufficient_funds: "The account does not have enough coins for this amount.",
  pool_full: "The node's transaction pool is full. Try again in a little while.",
  account_full: "This account already has too many transactions waiting. Wait for some to be included.",
  data_too_large: "The data field is too large for the network (at most 1 KiB by default).",
  known: "The node already has this transaction.",
  unknown_block: "No such block on this node.",
  unknown_tx: "No such transaction on this node (yet).",
  unknown_account: "This account has never been seen on the chain.",
  body_too_large: "The request is too large for the node.",
  unauthorized: "The node refused: this action needs an operator token.",
  not_found: "Not found.",
  network: "The node could not be reached. Check the connection and try again.",
  server: "The node ran into an internal error.",
};

/** ApiError carries the API's stable code, its message and the HTTP status. */
export class ApiError extends Error {
  constructor(code, message, status) {
    super(message || code);
    this.code = code;
    this.status = status;
  }
  /** human returns words for people, falling back to the node's own message. */
  get human() {
    return humanError(this.code, this.message);
  }
}

export function humanError(code, message) {
  const words = ERROR_MESSAGES[code];
  if (words) return words;
  return message ? `The node refused: ${message}` : "Something went wrong.";
}

// parseJSON keeps integers beyond 2^53 exact (as BigInt) where the browser
// exposes the source text to revivers; everything else stays a plain number.
export function parseJSON(text) {
  return JSON.parse(text, function (key, value, ctx) {
    if (typeof value === "number" && !Number.isSafeInteger(value) && ctx && typeof ctx.source === "string" && /^\d+$/.test(ctx.source)) {
      return BigInt(ctx.source);
    }
    return value;
  });
}

export class Api {
  /** base is a path prefix for the API ("" for the same origin root). */
  constructor(base = "") {
    this.base = base.replace(/\/$/, "");
  }

  url(path) {
    return this.base + path;
  }

  async request(path, { method = "GET", body, signal } = {}) {
    let res;
    // Reads are retried twice on a network failure (a phone changing
    // networks, a node restarting); a POST is never repeated blindly.
    for (let attempt = 0; ; attempt++) {
      try {
        res = await fetch(this.url(path), {
          method,
          body,
          signal,
          headers: body ? { "Content-Type": "application/json", Accept: "application/json" } : { Accept: "application/json" },
          cache: "no-store",
        });
        break;
      } catch (e) {
        if (e && e.name === "AbortError") throw e;
        if (method !== "GET" || attempt >= 2) throw new ApiError("network", "network error", 0);
        await new Promise((resolve) => setTimeout(resolve, 250 * (attempt + 1)));
        if (signal && signal.aborted) throw new DOMException("aborted", "AbortError");
      }
    }
    const text = await res.text();
    let json = null;
    if (text) {
      try {
        json = parseJSON(text);
      } catch {
        json = null;
      }
    }
    if (!res.ok) {
      const err = json && json.error;
      if (err && typeof err === "object" && err.code) throw new ApiError(String(err.code), String(err.message || ""), res.status);
      if (res.status === 404) throw new ApiError("not_found", "not found", 404);
      if (res.status >= 500) throw new ApiError("server", `HTTP ${res.status}`, res.status);
      throw new ApiError("bad_request", `HTTP ${res.status}`, res.status);
    }
    if (json === null) throw new ApiError("server", "the node sent a response that is not JSON", res.status);
    return json;
  }

  status(opts) {
    return this.request("/status", opts);
  }
  async blocks(limit = 20, opts) {
    const r = await this.request(`/blocks?limit=${encodeURIComponent(limit)}`, opts);
    return Array.isArray(r) ? r : Array.isArray(r && r.blocks) ? r.blocks : [];
  }
  block(ref, opts) {
    return this.request(`/blocks/${encodeURIComponent(ref)}`, opts);
  }
  tx(id, opts) {
    return this.request(`/txs/${encodeURIComponent(id)}`, opts);
  }
  account(address, opts) {
    return this.request(`/accounts/${encodeURIComponent(address)}`, opts);
  }
  /** accountTxs lists the canonical transactions from or to address, newest first (the node's index by address). */
  async accountTxs(address, limit = 50, opts) {
    const r = await this.request(`/accounts/${encodeURIComponent(address)}/txs?limit=${encodeURIComponent(limit)}`, opts);
    return Array.isArray(r && r.transactions) ? r.transactions : [];
  }
  pool(limit = 50, opts) {
    return this.request(`/pool?limit=${encodeURIComponent(limit)}`, opts);
  }
  peers(opts) {
    return this.request("/peers", opts);
  }
  /** submit posts one signed transaction (a JSON string) and returns its result entry. */
  async submit(json, opts) {
    const r = await this.request("/txs", { ...opts, method: "POST", body: json });
    const results = Array.isArray(r && r.results) ? r.results : [r];
    const first = results[0] || {};
    if (first.accepted === false || first.error) {
      const e = first.error || {};
      throw new ApiError(String(e.code || "bad_request"), String(e.message || ""), 200);
    }
    return first;
  }
}
