// verify.js — a light client in the browser: it checks an account proof
// (GET /accounts/{address}?proof=true) against the network's genesis.json
// alone, as `ccoin verify-account` does (cmd/ccoin/verify.go), trusting
// nothing else the node says. PROTOCOL.md sections 1, 2, 4, 7, 8, 10.1, 11.
//
// All cryptography is WebCrypto's (SHA-256, RSA-PSS verify); this file only
// decodes and encodes the canonical msgpack subset of PROTOCOL.md section 2.
//
// A failure is a VerifyError whose `check` is one of verify-account's
// names: "answer", the certificate checks of ccoin/consensus/certcheck.go
// ("votes", "chain", "header_id", "epochs", "link", "voter_miner",
// "distinct_voters", "signature", "quorum") and "merkle_path"; "genesis"
// when the genesis file itself is unusable.

import { parseJSON } from "./api.js";

export const CHECKS = ["answer", "votes", "chain", "header_id", "epochs", "link", "voter_miner", "distinct_voters", "signature", "quorum", "merkle_path"];

const MAX_CERT_VOTES = 256; // types.MaxCertVotes
const MAX_BLOCK_DATA = 1024; // types.MaxBlockData
const MAX_PUBLIC_KEY = 1024;
const MAX_SIGNATURE = 512;
const MAX_DIFFICULTY = 64;
const KEY_BITS = 160;
const MAX_VALUE = 64; // a generous bound on an account encoding (at most 19 bytes)
const PSS = { name: "RSA-PSS", hash: "SHA-256" };
const ZERO32 = new Uint8Array(32);

export class VerifyError extends Error {
  constructor(check, message) {
    super(`check ${check}: ${message}`);
    this.name = "VerifyError";
    this.check = check;
    this.detail = message;
  }
}

function fail(check, message) {
  throw new VerifyError(check, message);
}

function subtle() {
  if (!globalThis.crypto || !globalThis.crypto.subtle) throw new Error("WebCrypto is not available (open the page over https:// or on localhost)");
  return globalThis.crypto.subtle;
}

export async function sha256(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const buf = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    buf.set(p, off);
    off += p.length;
  }
  return new Uint8Array(await subtle().digest("SHA-256", buf));
}

export function hex(b) {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export function unhex(s, len) {
  if (typeof s !== "string" || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new Error("not hex");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  if (len !== undefined && out.length !== len) throw new Error(`${out.length} bytes, want ${len}`);
  return out;
}

function unbase64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ------------------------------------------------------------ msgpack

/** Reader decodes the canonical subset strictly (section 2, rule 4). */
class Reader {
  constructor(b) {
    this.b = b;
    this.off = 0;
  }
  err(msg) {
    throw new Error(`${msg} at byte ${this.off}`);
  }
  byte() {
    if (this.off >= this.b.length) this.err("truncated");
    return this.b[this.off++];
  }
  be(n) {
    if (this.off + n > this.b.length) this.err("truncated");
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.b[this.off++]);
    return v;
  }
  uint() {
    const t = this.byte();
    if (t < 0x80) return BigInt(t);
    const widths = { 0xcc: [1, 0x80n], 0xcd: [2, 0x100n], 0xce: [4, 0x10000n], 0xcf: [8, 0x100000000n] };
    const w = widths[t];
    if (!w) this.err(`type 0x${t.toString(16)} where an unsigned integer belongs`);
    const v = this.be(w[0]);
    if (v < w[1]) this.err("integer not in its shortest form");
    return v;
  }
  len(t, max, what) {
    let n;
    if (what === "array") {
      if (t >= 0x90 && t <= 0x9f) return t - 0x90;
      if (t === 0xdc) n = this.be(2);
      else if (t === 0xdd) n = this.be(4);
      else this.err(`type 0x${t.toString(16)} where an array belongs`);
      if (n < 16n || (t === 0xdd && n <= 0xffffn)) this.err("array length not in its shortest form");
    } else {
      if (t === 0xc4) return Number(this.be(1));
      if (t === 0xc5) n = this.be(2);
      else if (t === 0xc6) n = this.be(4);
      else this.err(`type 0x${t.toString(16)} where bin belongs`);
      if ((t === 0xc5 && n <= 0xffn) || (t === 0xc6 && n <= 0xffffn)) this.err("bin length not in its shortest form");
    }
    if (n > BigInt(max)) this.err(`${what} of ${n} exceeds ${max}`);
    return Number(n);
  }
  array(want) {
    const n = this.len(this.byte(), 0xffffffff, "array");
    if (n !== want) this.err(`array of ${n}, want ${want}`);
  }
  arrayLen(max) {
    const n = this.len(this.byte(), 0xffffffff, "array");
    if (n > max) this.err(`array of ${n} exceeds ${max}`);
    return n;
  }
  bin(max) {
    const n = this.len(this.byte(), max, "bin");
    if (n > max) this.err(`bin of ${n} exceeds ${max}`);
    if (this.off + n > this.b.length) this.err("truncated");
    const out = this.b.slice(this.off, this.off + n);
    this.off += n;
    return out;
  }
  // fixed reads a bin of exactly size bytes, or (orEmpty) of none.
  fixed(size, orEmpty) {
    const p = this.bin(size);
    if (p.length === size) return p;
    if (orEmpty && p.length === 0) return null;
    this.err(`bin of ${p.length}, want ${size}`);
  }
  end() {
    if (this.off !== this.b.length) this.err(`${this.b.length - this.off} trailing bytes`);
  }
}

/** Writer encodes the canonical subset (section 2). */
class Writer {
  constructor() {
    this.parts = [];
  }
  raw(...bytes) {
    this.parts.push(Uint8Array.from(bytes));
  }
  be(v, n) {
    const out = new Uint8Array(n);
    for (let i = n - 1; i >= 0; i--) {
      out[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    this.parts.push(out);
  }
  uint(v) {
    v = BigInt(v);
    if (v < 0n || v >= 1n << 64n) throw new Error("integer out of range");
    if (v < 0x80n) this.raw(Number(v));
    else if (v <= 0xffn) this.raw(0xcc, Number(v));
    else if (v <= 0xffffn) (this.raw(0xcd), this.be(v, 2));
    else if (v <= 0xffffffffn) (this.raw(0xce), this.be(v, 4));
    else (this.raw(0xcf), this.be(v, 8));
  }
  bin(p) {
    const n = p.length;
    if (n <= 0xff) this.raw(0xc4, n);
    else if (n <= 0xffff) (this.raw(0xc5), this.be(BigInt(n), 2));
    else (this.raw(0xc6), this.be(BigInt(n), 4));
    this.parts.push(p);
  }
  array(n) {
    if (n < 16) this.raw(0x90 | n);
    else if (n <= 0xffff) (this.raw(0xdc), this.be(BigInt(n), 2));
    else (this.raw(0xdd), this.be(BigInt(n), 4));
  }
  bytes() {
    let n = 0;
    for (const p of this.parts) n += p.length;
    const out = new Uint8Array(n);
    let off = 0;
    for (const p of this.parts) (out.set(p, off), (off += p.length));
    return out;
  }
}

/** encodeAccount is the canonical [balance, nonce] (section 7). */
export function encodeAccount(balance, nonce) {
  const w = new Writer();
  w.array(2);
  w.uint(balance);
  w.uint(nonce);
  return w.bytes();
}

// ------------------------------------------------------------ headers

// readHeader decodes the 13-element header (section 4) and keeps the byte
// range of its seal part, from which its id is computed.
function readHeader(r) {
  const start = r.off;
  r.array(13);
  const h = { version: r.uint() };
  if (h.version !== 1n) r.err(`unknown header version ${h.version}`);
  h.chainId = r.fixed(32, true);
  h.number = r.uint();
  h.parent = r.fixed(32, true);
  h.slot = r.uint();
  h.time = r.uint();
  h.sealer = r.fixed(20, true);
  h.txRoot = r.fixed(32, false);
  h.stateRoot = r.fixed(32, false);
  h.reward = r.uint();
  h.difficulty = r.uint();
  h.data = r.bin(MAX_BLOCK_DATA);
  const sealEnd = r.off;
  h.powNonce = r.uint();
  if (h.number === 0n) r.err("block number 0");
  const genesis = h.number === 1n;
  if ((h.chainId !== null) !== !genesis || (h.parent !== null) !== !genesis || (h.sealer !== null) !== !genesis) {
    r.err("chain_id, parent and sealer must be empty exactly for block 1");
  }
  if (h.difficulty > BigInt(MAX_DIFFICULTY)) r.err(`difficulty ${h.difficulty} exceeds ${MAX_DIFFICULTY}`);
  // The seal encoding is the header without pow_nonce, as a 12-array.
  h.sealEncoding = new Uint8Array([0x9c, ...r.b.subarray(start + 1, sealEnd)]);
  h.encoding = r.b.slice(start, r.off);
  return h;
}

/** powHash is SHA-256(SHA-256(seal encoding) ‖ pow_nonce as 8 bytes big-endian): the block id (section 4). */
export async function powHash(sealEncoding, nonce) {
  const n = new Uint8Array(8);
  let v = BigInt(nonce);
  for (let i = 7; i >= 0; i--) (n[i] = Number(v & 0xffn)), (v >>= 8n);
  return sha256(await sha256(sealEncoding), n);
}

/** headerId decodes a header encoding (hex or bytes) and returns its id as hex. */
export async function headerId(enc) {
  const r = new Reader(typeof enc === "string" ? unhex(enc) : enc);
  const h = readHeader(r);
  r.end();
  return hex(await powHash(h.sealEncoding, h.powNonce));
}

function meets(id, difficulty) {
  for (let i = 0; i < difficulty; i++) {
    const nib = i % 2 === 0 ? id[i >> 1] >> 4 : id[i >> 1] & 0xf;
    if (nib !== 0) return false;
  }
  return true;
}

// ------------------------------------------------------------ state tree

function bit(key, i) {
  return (key[i >> 3] >> (7 - (i & 7))) & 1;
}

async function leafHash(key, value) {
  return sha256(Uint8Array.of(0), key, value);
}

async function nodeHash(l, r) {
  return sha256(Uint8Array.of(1), l, r);
}

/** stateRoot builds the root of the sparse Merkle tree over [{key, value}] (section 7). */
export async function stateRoot(entries) {
  async function build(list, depth) {
    if (list.length === 0) return ZERO32;
    if (list.length === 1) return leafHash(list[0].key, list[0].value);
    const left = list.filter((e) => bit(e.key, depth) === 0);
    const right = list.filter((e) => bit(e.key, depth) === 1);
    return nodeHash(await build(left, depth + 1), await build(right, depth + 1));
  }
  return build(entries, 0);
}

/**
 * verifyProof checks a state proof against root (section 7, as
 * smt.VerifyProof): key and root are bytes, value the account encoding (or
 * null when absent), siblings root first, leaf {key, value} or null.
 * It throws a plain Error saying what is wrong.
 */
export async function verifyProof(root, key, value, found, siblings, leaf) {
  const n = siblings.length;
  if (n > KEY_BITS) throw new Error(`${n} siblings`);
  let cur = ZERO32;
  if (found) {
    if (leaf) throw new Error("inclusion proof with another leaf");
    if (value.length > MAX_VALUE) throw new Error(`value of ${value.length} bytes`);
    cur = await leafHash(key, value);
  } else if (value && value.length !== 0) {
    throw new Error("absence claim with a value");
  } else if (leaf) {
    if (equal(leaf.key, key)) throw new Error("absence proof ends in the key's own leaf");
    if (leaf.value.length > MAX_VALUE) throw new Error(`leaf value of ${leaf.value.length} bytes`);
    for (let i = 0; i < n; i++) if (bit(leaf.key, i) !== bit(key, i)) throw new Error("proof leaf is off the key's path");
    cur = await leafHash(leaf.key, leaf.value);
  }
  if (n > 0 && equal(siblings[n - 1], ZERO32)) throw new Error("empty last sibling");
  for (let i = n - 1; i >= 0; i--) {
    cur = bit(key, i) === 0 ? await nodeHash(cur, siblings[i]) : await nodeHash(siblings[i], cur);
  }
  if (!equal(cur, root)) throw new Error("root mismatch");
}

// ------------------------------------------------------------ genesis

function parseAddress(s, what) {
  if (typeof s !== "string" || !/^[0-9a-fA-F]{40}$/.test(s)) fail("genesis", `${what}: ${JSON.stringify(s)} is not a 40-hex address`);
  return s.toLowerCase();
}

function uintField(v, what) {
  if (v === undefined || v === null) return 0n;
  if (typeof v === "bigint") return v;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) fail("genesis", `${what} is not an unsigned integer`);
  return BigInt(v);
}

/**
 * loadGenesis builds the network's genesis from the text of genesis.json
 * (PROTOCOL.md section 8): its file hash, chain id, miners and quorum. It
 * mines the genesis block's proof of work from 0 upwards (the genesis
 * difficulty is at most 8, the devnet's 3: 16^difficulty hashes on
 * average, about 15,000 a second in a browser).
 *
 * nonceHint (pow_nonce of GET /blocks/1) shortens a long search: the
 * search stops at searchLimit, and a hint beyond it that meets the
 * difficulty is taken without proving that no smaller nonce does. That
 * cannot make a lie verify: a wrong nonce gives a chain id no miner signed
 * votes for, so every certificate then fails check chain. A hint that does
 * not meet the difficulty is ignored.
 */
export async function loadGenesis(text, { nonceHint = null, searchLimit = 1 << 16, maxNonce = 1 << 24 } = {}) {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  const fileHash = hex(await sha256(bytes));
  let f;
  try {
    f = parseJSON(new TextDecoder().decode(bytes));
  } catch (e) {
    fail("genesis", `not JSON: ${e.message}`);
  }
  if (!f || typeof f !== "object") fail("genesis", "not a JSON object");
  const miners = [];
  for (const m of Array.isArray(f.miners) ? f.miners : []) {
    const a = parseAddress(m, "miner");
    if (miners.includes(a)) fail("genesis", `miner ${a} listed twice`);
    miners.push(a);
  }
  if (miners.length === 0) fail("genesis", "miners is empty");
  const bm = f.block_mining || {};
  const interval = Number(bm.interval);
  if (!(interval >= 0.05 && interval <= 86400)) fail("genesis", "block_mining.interval must be between 0.05 and 86400 seconds");
  const finality = f.finality === undefined || f.finality === "" ? "majority" : f.finality;
  let quorum;
  if (finality === "majority") quorum = Math.floor(miners.length / 2) + 1;
  else if (finality === "two_thirds") quorum = Math.floor((miners.length * 2) / 3) + 1;
  else fail("genesis", `finality ${JSON.stringify(finality)} is not "majority" or "two_thirds"`);
  const gb = f.genesis_block || {};
  const coinbase = gb.coinbase ? parseAddress(gb.coinbase, "genesis_block.coinbase") : "";
  const preimage =
    "ccoin-genesis-v1\n" +
    `network_id=${uintField(f.network_id, "network_id")}\n` +
    miners.map((m) => `miner=${m}\n`).join("") +
    `interval_ms=${Math.round(interval * 1000)}\n` +
    `max_bound=${uintField(bm.max_bound, "max_bound")}\n` +
    `min_bound=${uintField(bm.min_bound, "min_bound")}\n` +
    `reward=${uintField(bm.reward, "reward")}\n` +
    `difficulty=${uintField(bm.difficulty, "difficulty")}\n` +
    `allow_empty=${bm.allow_empty === true}\n` +
    `finality=${finality}\n` +
    `coinbase=${coinbase}\n`;
  const data = await sha256(new TextEncoder().encode(preimage));
  const alloc = [];
  for (const [k, v] of Object.entries(f.alloc || {})) {
    const key = unhex(parseAddress(k, "alloc"));
    if (alloc.some((e) => equal(e.key, key))) fail("genesis", `alloc ${k} listed twice`);
    alloc.push({ key, value: encodeAccount(uintField(v && v.balance, "balance"), uintField(v && v.nonce, "nonce")) });
  }
  const root = await stateRoot(alloc);
  const difficulty = Number(uintField(gb.difficulty, "genesis_block.difficulty"));
  if (difficulty > 8) fail("genesis", "genesis difficulty above 8");
  const w = new Writer();
  w.array(12);
  w.uint(1); // version
  w.bin(new Uint8Array(0)); // chain_id
  w.uint(1); // number
  w.bin(new Uint8Array(0)); // parent
  w.uint(0); // slot
  w.uint(uintField(f.timestamp, "timestamp") * 1000n); // time
  w.bin(new Uint8Array(0)); // sealer
  w.bin(ZERO32); // tx_root
  w.bin(root); // state_root
  w.uint(0); // reward
  w.uint(difficulty);
  w.bin(data);
  const seal = w.bytes();
  const sealHash = await sha256(seal);
  const buf = new Uint8Array(40);
  buf.set(sealHash);
  let hinted = null;
  if (nonceHint !== null && nonceHint !== undefined) {
    const h = await powHash(seal, nonceHint);
    if (meets(h, difficulty)) hinted = { id: h, nonce: Number(nonceHint) };
  }
  const limit = hinted && hinted.nonce > searchLimit ? searchLimit : maxNonce;
  let id = null;
  let nonce = 0;
  const dv = new DataView(buf.buffer);
  for (; nonce <= limit; nonce++) {
    dv.setUint32(32, Math.floor(nonce / 2 ** 32));
    dv.setUint32(36, nonce >>> 0);
    const h = new Uint8Array(await subtle().digest("SHA-256", buf));
    if (meets(h, difficulty)) {
      id = h;
      break;
    }
  }
  if (!id && hinted) ({ id, nonce } = hinted);
  if (!id) fail("genesis", `no proof of work below nonce ${maxNonce}`);
  return { fileHash, chainId: hex(id), miners, quorum, finality, stateRoot: hex(root), powNonce: nonce, configPreimage: preimage };
}

// ------------------------------------------------------------ votes and certificates

function readVote(r) {
  const start = r.off;
  r.array(9);
  const v = { version: r.uint(), chainId: r.fixed(32, false) };
  v.sourceEpoch = r.uint();
  v.sourceId = r.fixed(32, false);
  v.targetEpoch = r.uint();
  v.targetId = r.fixed(32, false);
  v.voter = r.fixed(20, false);
  const unsignedEnd = r.off;
  v.voterKey = r.bin(MAX_PUBLIC_KEY);
  v.signature = r.bin(MAX_SIGNATURE);
  v.unsigned = new Uint8Array([0x97, ...r.b.subarray(start + 1, unsignedEnd)]);
  return v;
}

/** decodeCertificate decodes the canonical [header, [votes]] (section 10.1). */
export function decodeCertificate(raw) {
  const r = new Reader(raw);
  r.array(2);
  const header = readHeader(r);
  const n = r.arrayLen(MAX_CERT_VOTES);
  const votes = [];
  for (let i = 0; i < n; i++) votes.push(readVote(r));
  r.end();
  return { header, votes };
}

// authentic checks a vote as types.Vote.VerifySignature: a 2048-bit key
// with exponent 65537 in canonical PKIX DER, whose address is the voter,
// and a 256-byte RSA-PSS (SHA-256, salt 32) signature of the unsigned
// encoding. It returns an error message, or "" when the vote is authentic.
async function authentic(v) {
  const s = subtle();
  let key;
  try {
    key = await s.importKey("spki", v.voterKey, PSS, true, ["verify"]);
  } catch {
    return "voter_key is not an RSA public key";
  }
  const jwk = await s.exportKey("jwk", key);
  const n = unbase64(jwk.n.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (jwk.n.length % 4)) % 4));
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  const bits = (n.length - i) * 8 - (Math.clz32(n[i]) - 24);
  if (bits !== 2048 || jwk.e !== "AQAB") return `voter_key is not a 2048-bit key with exponent 65537`;
  const der = new Uint8Array(await s.exportKey("spki", key));
  if (!equal(der, v.voterKey)) return "voter_key is not in canonical DER";
  const addr = (await sha256(v.voterKey)).subarray(0, 20);
  if (!equal(addr, v.voter)) return `voter_key is the key of ${hex(addr)}, not of the voter ${hex(v.voter)}`;
  if (v.signature.length !== 256) return `signature of ${v.signature.length} bytes`;
  const ok = await s.verify({ name: "RSA-PSS", saltLength: 32 }, key, v.signature, v.unsigned);
  return ok ? "" : "bad vote signature";
}

/**
 * verifyCertificate checks a certificate's raw encoding against the
 * genesis g (from loadGenesis), in the order and with the check names of
 * consensus.VerifyCertificate and snapshot.VerifyFinal. It returns
 * {header, id (hex), source, target, voters}.
 */
export async function verifyCertificate(g, raw) {
  let c;
  try {
    c = decodeCertificate(typeof raw === "string" ? unhex(raw) : raw);
  } catch (e) {
    fail("answer", `malformed certificate: ${e.message}`);
  }
  if (c.votes.length === 0) fail("votes", "no votes");
  const h = c.header;
  const idBytes = await powHash(h.sealEncoding, h.powNonce);
  const id = hex(idBytes);
  const isGenesis = h.number === 1n;
  if (!isGenesis && hex(h.chainId) !== g.chainId) fail("chain", "header of another chain");
  const first = c.votes[0];
  const src = { epoch: first.sourceEpoch, id: hex(first.sourceId) };
  const tgt = { epoch: first.targetEpoch, id: hex(first.targetId) };
  if (src.id !== id) fail("header_id", `votes' source ${src.id} is not the header's block ${id}`);
  // uint64 arithmetic, as Go's: the epoch after 2^64-1 is 0.
  if (tgt.epoch !== (src.epoch + 1n) % (1n << 64n)) fail("epochs", `epochs ${src.epoch} -> ${tgt.epoch} are not consecutive`);
  if (h.slot > src.epoch) fail("header_id", `block slot ${h.slot} above epoch ${src.epoch}`);
  const voters = new Set();
  for (let i = 0; i < c.votes.length; i++) {
    const v = c.votes[i];
    const voter = hex(v.voter);
    if (v.sourceEpoch !== src.epoch || hex(v.sourceId) !== src.id || v.targetEpoch !== tgt.epoch || hex(v.targetId) !== tgt.id) {
      fail("link", `vote ${i} is for another link`);
    }
    if (v.version !== 1n || hex(v.chainId) !== g.chainId) fail("chain", `vote ${i}: version or chain id`);
    if (!g.miners.includes(voter)) fail("voter_miner", `vote ${i}: voter ${voter} is not a miner`);
    if (voters.has(voter)) fail("distinct_voters", `vote ${i}: voter ${voter} counted twice`);
    const bad = await authentic(v);
    if (bad) fail("signature", `vote ${i}: ${bad}`);
    voters.add(voter);
  }
  if (voters.size < g.quorum) fail("quorum", `${voters.size} distinct voters, quorum is ${g.quorum}`);
  if (isGenesis && id !== g.chainId) fail("chain", "a genesis block other than this network's");
  return { header: h, id, source: src, target: tgt, voters: [...voters] };
}

// ------------------------------------------------------------ account proofs

function big(v, what) {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "string" && /^\d+$/.test(v)) return BigInt(v);
  throw new Error(`${what} is not an unsigned integer`);
}

/**
 * verifyAccount checks a proof answer (the parsed JSON of
 * GET /accounts/{address}?proof=true) for address against g, as
 * verify-account does: the answer's shape, the certificate from its raw
 * encoding only, the Merkle path against the certified header's
 * state_root, then that the answer names the certified block. It returns
 * {address, found, balance, nonce (BigInt), block (BigInt), blockId,
 * stateRoot, votes, source, target, quorum, miners}; it throws a
 * VerifyError naming the failed check.
 */
export async function verifyAccount(g, answer, address) {
  let p;
  try {
    if (!answer || typeof answer !== "object") throw new Error("not an object");
    const addr = unhex(parseAddr(answer.address), 20);
    const found = answer.found === true;
    if (answer.found !== true && answer.found !== false) throw new Error("found is not a boolean");
    const balance = big(answer.balance ?? 0, "balance");
    const nonce = big(answer.nonce ?? 0, "nonce");
    const sibs = answer.siblings ?? [];
    if (!Array.isArray(sibs) || sibs.length > KEY_BITS) throw new Error(`${Array.isArray(sibs) ? sibs.length : "no"} siblings`);
    const siblings = sibs.map((s) => unhex(s, 32));
    let leaf = null;
    if (answer.leaf) leaf = { key: unhex(parseAddr(answer.leaf.key), 20), value: unbase64(answer.leaf.value) };
    if (!answer.certificate || typeof answer.certificate.raw !== "string") throw new Error("no certificate.raw");
    const raw = unhex(answer.certificate.raw);
    p = { addr, found, balance, nonce, siblings, leaf, raw };
  } catch (e) {
    fail("answer", `malformed proof: ${e.message}`);
  }
  if (hex(p.addr) !== address.toLowerCase()) fail("answer", `the node answered for ${hex(p.addr)}`);
  const cert = await verifyCertificate(g, p.raw);
  let value = null;
  if (p.found) value = encodeAccount(p.balance, p.nonce);
  else if (p.balance !== 0n || p.nonce !== 0n) fail("merkle_path", "an absent account with a balance or nonce");
  try {
    await verifyProof(cert.header.stateRoot, p.addr, value, p.found, p.siblings, p.leaf);
  } catch (e) {
    fail("merkle_path", `account proof does not verify: ${e.message}`);
  }
  const h = cert.header;
  const stateRoot = hex(h.stateRoot);
  let block;
  try {
    block = big(answer.block, "block");
  } catch {
    block = -1n;
  }
  if (block !== h.number || answer.state_root !== stateRoot || answer.block_id !== cert.id) {
    fail("answer", `the answer names block ${answer.block} ${answer.block_id} root ${answer.state_root}, its certificate is of block ${h.number} ${cert.id} root ${stateRoot}`);
  }
  return {
    address: hex(p.addr),
    found: p.found,
    balance: p.balance,
    nonce: p.nonce,
    block: h.number,
    blockId: cert.id,
    stateRoot,
    votes: cert.voters.length,
    source: cert.source,
    target: cert.target,
    quorum: g.quorum,
    miners: g.miners.length,
  };
}

function parseAddr(s) {
  if (typeof s !== "string" || !/^[0-9a-fA-F]{40}$/.test(s)) throw new Error(`address ${JSON.stringify(s)}`);
  return s.toLowerCase();
}

/** summary is the line the wallet shows for a verified answer. */
export function summary(r) {
  return `verified against finality (block ${r.block}, certificate of ${r.votes} miners' votes)`;
}
