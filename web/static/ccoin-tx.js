// ccoin-tx.js — the canonical ccoin transaction encoding, ids, addresses and
// RSA-PSS signing with WebCrypto. It has no dependencies and no side effects,
// so tests (and other wallets) can import it on its own.
//
// Encoding (DESIGN.md §3): a msgpack array of 7 elements
//   chain_id bin(32), nonce uint, from bin(20), to bin(20), amount uint,
//   data bin, time uint
// with unsigned integers in their shortest msgpack form and byte strings as
// bin8/bin16/bin32. id = hex SHA-256 of that encoding; the signature is
// RSA-PSS/SHA-256 (salt 32) over the encoding itself.

export const MAX_UINT64 = (1n << 64n) - 1n;
export const CHAIN_ID_LEN = 32;
export const ADDRESS_LEN = 20;
export const RSA_BITS = 2048;

const PSS = { name: "RSA-PSS", hash: "SHA-256" };
const SIGN_PARAMS = { name: "RSA-PSS", saltLength: 32 };

function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) {
    throw new Error(
      "This browser does not offer WebCrypto here. The wallet needs a secure page " +
        "(https:// or http://localhost).",
    );
  }
  return s;
}

/** toUint64 converts a number, bigint or decimal string to a BigInt in [0, 2^64). */
export function toUint64(v, name = "value") {
  let b;
  if (typeof v === "bigint") {
    b = v;
  } else if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new RangeError(`${name} must be a whole number`);
    b = BigInt(v);
  } else if (typeof v === "string" && /^\s*\d+\s*$/.test(v)) {
    b = BigInt(v.trim());
  } else {
    throw new RangeError(`${name} must be a whole number`);
  }
  if (b < 0n || b > MAX_UINT64) throw new RangeError(`${name} is out of range (0 to ${MAX_UINT64})`);
  return b;
}

/** hexToBytes decodes lowercase or uppercase hex (an optional 0x is allowed). */
export function hexToBytes(hex, len, name = "value") {
  if (typeof hex !== "string") throw new TypeError(`${name} must be a hex string`);
  let s = hex.trim();
  if (s.startsWith("0x") || s.startsWith("0X")) s = s.slice(2);
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new TypeError(`${name} is not valid hex`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  if (len !== undefined && out.length !== len) {
    throw new TypeError(`${name} must be ${len} bytes (${len * 2} hex characters)`);
  }
  return out;
}

export function bytesToHex(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += b.toString(16).padStart(2, "0");
  return s;
}

export function bytesToBase64(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

export function base64ToBytes(b64) {
  const s = atob(b64.replace(/\s+/g, ""));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function base64urlToBytes(s) {
  let b = s.replace(/-/g, "+").replace(/_/g, "/");
  while (b.length % 4) b += "=";
  return base64ToBytes(b);
}

/** utf8 encodes a string (or passes bytes through). */
export function utf8(data) {
  if (data === undefined || data === null) return new Uint8Array(0);
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new TextEncoder().encode(String(data));
}

class Writer {
  constructor() {
    this.buf = new Uint8Array(256);
    this.len = 0;
  }
  grow(n) {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b) {
    this.grow(1);
    this.buf[this.len++] = b;
  }
  // be writes v (a BigInt) as n big-endian bytes.
  be(v, n) {
    this.grow(n);
    for (let i = n - 1; i >= 0; i--) {
      this.buf[this.len + i] = Number(v & 0xffn);
      v >>= 8n;
    }
    this.len += n;
  }
  bytes(p) {
    this.grow(p.length);
    this.buf.set(p, this.len);
    this.len += p.length;
  }
  array(n) {
    if (n < 16) this.byte(0x90 | n);
    else if (n <= 0xffff) {
      this.byte(0xdc);
      this.be(BigInt(n), 2);
    } else {
      this.byte(0xdd);
      this.be(BigInt(n), 4);
    }
  }
  uint(v) {
    if (v < 0x80n) this.byte(Number(v));
    else if (v <= 0xffn) {
      this.byte(0xcc);
      this.be(v, 1);
    } else if (v <= 0xffffn) {
      this.byte(0xcd);
      this.be(v, 2);
    } else if (v <= 0xffffffffn) {
      this.byte(0xce);
      this.be(v, 4);
    } else {
      this.byte(0xcf);
      this.be(v, 8);
    }
  }
  bin(p) {
    const n = p.length;
    if (n <= 0xff) {
      this.byte(0xc4);
      this.be(BigInt(n), 1);
    } else if (n <= 0xffff) {
      this.byte(0xc5);
      this.be(BigInt(n), 2);
    } else {
      this.byte(0xc6);
      this.be(BigInt(n), 4);
    }
    this.bytes(p);
  }
  result() {
    return this.buf.slice(0, this.len);
  }
}

/**
 * normalizeTx checks a transaction given as API JSON fields
 * ({chain_id, nonce, from, to, amount, data, time}; hex strings, numbers,
 * bigints or decimal strings, data a string or bytes) and returns it with
 * bytes and BigInts.
 */
export function normalizeTx(tx) {
  return {
    chainId: hexToBytes(tx.chain_id, CHAIN_ID_LEN, "chain id"),
    nonce: toUint64(tx.nonce, "nonce"),
    from: hexToBytes(tx.from, ADDRESS_LEN, "from address"),
    to: hexToBytes(tx.to, ADDRESS_LEN, "to address"),
    amount: toUint64(tx.amount, "amount"),
    data: utf8(tx.data),
    time: toUint64(tx.time, "time"),
  };
}

/** encodeUnsigned returns the canonical 7-field encoding that is hashed and signed. */
export function encodeUnsigned(tx) {
  const t = normalizeTx(tx);
  const w = new Writer();
  w.array(7);
  w.bin(t.chainId);
  w.uint(t.nonce);
  w.bin(t.from);
  w.bin(t.to);
  w.uint(t.amount);
  w.bin(t.data);
  w.uint(t.time);
  return w.result();
}

export async function sha256(bytes) {
  return new Uint8Array(await subtle().digest("SHA-256", bytes));
}

/** txId is the lowercase hex SHA-256 of the unsigned encoding. */
export async function txId(tx) {
  return bytesToHex(await sha256(encodeUnsigned(tx)));
}

/** addressOf is the lowercase hex of the first 20 bytes of SHA-256(SPKI DER). */
export async function addressOf(spkiDer) {
  return bytesToHex((await sha256(spkiDer)).subarray(0, ADDRESS_LEN));
}

// finishWallet derives the public key, its SPKI DER and the address from a
// private key, refusing keys the network would refuse.
async function finishWallet(privateKey) {
  const s = subtle();
  const jwk = await s.exportKey("jwk", privateKey);
  if (jwk.e !== "AQAB") throw new Error("The key's public exponent is not 65537; ccoin refuses it.");
  const n = base64urlToBytes(jwk.n);
  const bits = n.length * 8 - Math.clz32(n[0]) + 24;
  if (bits !== RSA_BITS) throw new Error(`The key has ${bits} bits; ccoin accounts use ${RSA_BITS}-bit RSA keys.`);
  const publicKey = await s.importKey("jwk", { kty: "RSA", n: jwk.n, e: jwk.e, ext: true }, PSS, true, ["verify"]);
  const spki = new Uint8Array(await s.exportKey("spki", publicKey));
  return { privateKey, publicKey, spki, address: await addressOf(spki) };
}

/** generateWallet creates a fresh RSA-2048 (e=65537) key pair for RSA-PSS/SHA-256. */
export async function generateWallet() {
  const pair = await subtle().generateKey(
    { ...PSS, modulusLength: RSA_BITS, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  );
  return finishWallet(pair.privateKey);
}

/** importPrivateKeyPEM reads an unencrypted PKCS#8 "PRIVATE KEY" PEM. */
export async function importPrivateKeyPEM(pem) {
  const text = String(pem || "");
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text)) {
    throw new Error(
      "This key is encrypted with a passphrase. Decrypt it first, for example: " +
        "openssl pkcs8 -in id_rsa -out plain.pem (then paste plain.pem).",
    );
  }
  if (/-----BEGIN RSA PRIVATE KEY-----/.test(text)) {
    throw new Error(
      "This is a PKCS#1 key. Convert it to PKCS#8 first: openssl pkcs8 -topk8 -nocrypt -in key.pem",
    );
  }
  const m = text.match(/-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/);
  if (!m) throw new Error('No "-----BEGIN PRIVATE KEY-----" block found in what you pasted.');
  let der;
  try {
    der = base64ToBytes(m[1]);
  } catch {
    throw new Error("The PEM block is not valid base64.");
  }
  let key;
  try {
    key = await subtle().importKey("pkcs8", der, PSS, true, ["sign"]);
  } catch {
    throw new Error("This is not an RSA private key the browser can read.");
  }
  return finishWallet(key);
}

function pem(label, der) {
  const b64 = bytesToBase64(der);
  const lines = b64.match(/.{1,64}/g) || [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** exportPrivateKeyPEM writes the key as unencrypted PKCS#8 PEM (like `ccoin create-account`). */
export async function exportPrivateKeyPEM(wallet) {
  return pem("PRIVATE KEY", new Uint8Array(await subtle().exportKey("pkcs8", wallet.privateKey)));
}

export function exportPublicKeyPEM(wallet) {
  return pem("PUBLIC KEY", wallet.spki);
}

/**
 * signTx signs tx (API field shapes, see normalizeTx) with wallet and returns
 * the transaction ready to post: the input fields normalised for JSON, plus
 * id, public_key and signature (base64).
 */
export async function signTx(wallet, tx) {
  const enc = encodeUnsigned(tx);
  const sig = new Uint8Array(await subtle().sign(SIGN_PARAMS, wallet.privateKey, enc));
  const t = normalizeTx(tx);
  return {
    id: bytesToHex(await sha256(enc)),
    chain_id: bytesToHex(t.chainId),
    nonce: t.nonce,
    from: bytesToHex(t.from),
    to: bytesToHex(t.to),
    amount: t.amount,
    data: new TextDecoder().decode(t.data),
    time: t.time,
    public_key: bytesToBase64(wallet.spki),
    signature: bytesToBase64(sig),
  };
}

/** verifyTx checks a signed transaction's signature with WebCrypto (for display and tests). */
export async function verifyTx(signed) {
  const s = subtle();
  const spki = base64ToBytes(signed.public_key);
  const key = await s.importKey("spki", spki, PSS, false, ["verify"]);
  return s.verify(SIGN_PARAMS, key, base64ToBytes(signed.signature), encodeUnsigned(signed));
}

/**
 * txToJSON renders the POST /txs body. JSON.stringify cannot write BigInt, and
 * uint64 amounts do not fit a double, so integers are written as exact decimal
 * literals by hand.
 */
export function txToJSON(signed) {
  const str = (v) => JSON.stringify(String(v));
  const int = (v, name) => toUint64(v, name).toString();
  return (
    "{" +
    `"chain_id":${str(signed.chain_id)},` +
    `"nonce":${int(signed.nonce, "nonce")},` +
    `"from":${str(signed.from)},` +
    `"to":${str(signed.to)},` +
    `"amount":${int(signed.amount, "amount")},` +
    `"data":${str(signed.data)},` +
    `"time":${int(signed.time, "time")},` +
    `"public_key":${str(signed.public_key)},` +
    `"signature":${str(signed.signature)}` +
    "}"
  );
}
