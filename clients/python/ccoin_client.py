"""A reference ccoin client written from PROTOCOL.md alone.

Python standard library plus Debian's python3-msgpack and
python3-cryptography. It builds and signs transactions, recomputes block
ids, tx_root, genesis blocks and state roots, verifies account proofs and
parses snapshots, checks finality votes and certificates against the
genesis, and talks to a node's HTTP API (POST /txs,
GET /accounts/{address}). test_vectors.py checks it against testdata/.

Usage:
    python3 ccoin_client.py send --node http://127.0.0.1:4445 --key id_rsa \
        --to ADDRESS --amount N [--data TEXT]
    python3 ccoin_client.py chain-id genesis.json
"""

import argparse
import base64
import hashlib
import json
import struct
import sys
import time
import urllib.error
import urllib.request

import msgpack
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ZERO32 = bytes(32)


def sha256(b):
    return hashlib.sha256(b).digest()


# Section 1: keys, addresses, signatures.

PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def public_der(pub):
    return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def address_of(der):
    return sha256(der)[:20]


def load_private_key(pem, password=None):
    key = serialization.load_pem_private_key(pem, password=password)
    check_key(key.public_key())
    return key


def load_public_key(der):
    pub = serialization.load_der_public_key(der)
    check_key(pub)
    if public_der(pub) != der:
        raise ValueError("non-canonical DER")
    return pub


def check_key(pub):
    if not isinstance(pub, rsa.RSAPublicKey):
        raise ValueError("not an RSA key")
    n = pub.public_numbers()
    if n.n.bit_length() != 2048 or n.e != 65537:
        raise ValueError("key must be RSA-2048 with exponent 65537")


def sign(key, message):
    """RSA-PSS/SHA-256, salt 32, over message (whose SHA-256 is the digest)."""
    return key.sign(message, PSS, hashes.SHA256())


def verify(der, message, signature):
    if len(signature) != 256:
        return False
    try:
        load_public_key(der).verify(signature, message, PSS, hashes.SHA256())
        return True
    except (InvalidSignature, ValueError):
        return False


# Section 2: the canonical encoding. msgpack-python writes integers in the
# shortest form and bytes as bin, which is exactly the canonical subset.

def pack(fields):
    for f in fields:
        if isinstance(f, (bool, float, str)) or (isinstance(f, int) and not 0 <= f < 2**64):
            raise ValueError("canonical fields are unsigned integers and bytes")
    return msgpack.packb(list(fields), use_bin_type=True)


def unpack(b):
    """Decodes a canonical encoding: only arrays, unsigned integers and bin,
    in the shortest form (it must survive a re-encoding byte for byte), and
    no trailing bytes (unpackb refuses them)."""
    v = msgpack.unpackb(b, raw=False, use_list=True)

    def check(x):
        if isinstance(x, list):
            for e in x:
                check(e)
        elif isinstance(x, bool) or not isinstance(x, (int, bytes)) or (isinstance(x, int) and x < 0):
            raise ValueError("not a canonical encoding: %r" % type(x).__name__)
    check(v)
    if repack(v) != b:
        raise ValueError("not a canonical encoding")
    return v


def repack(v):
    return msgpack.packb(v, use_bin_type=True)


# Section 3: transactions.

class Tx:
    FIELDS = ("chain_id", "nonce", "from_", "to", "amount", "data", "time")

    def __init__(self, chain_id, nonce, from_, to, amount, data=b"", time_ms=0, public_key=b"", signature=b""):
        self.chain_id, self.nonce, self.from_, self.to = chain_id, nonce, from_, to
        self.amount, self.data, self.time = amount, data, time_ms
        self.public_key, self.signature = public_key, signature
        if len(chain_id) != 32 or len(from_) != 20 or len(to) != 20 or len(data) > 1024:
            raise ValueError("bad transaction field size")

    def unsigned(self):
        return pack([self.chain_id, self.nonce, self.from_, self.to, self.amount, self.data, self.time])

    def encode(self):
        return pack([self.chain_id, self.nonce, self.from_, self.to, self.amount, self.data, self.time,
                     self.public_key, self.signature])

    def id(self):
        return sha256(self.unsigned())

    def sign(self, key):
        der = public_der(key.public_key())
        if address_of(der) != self.from_:
            raise ValueError("key does not own from")
        self.public_key, self.signature = der, sign(key, self.unsigned())

    def verify(self):
        return address_of(self.public_key) == self.from_ and verify(self.public_key, self.unsigned(), self.signature)

    @classmethod
    def decode(cls, b):
        return cls.from_fields(unpack(b))

    @classmethod
    def from_fields(cls, f):
        if len(f) != 9:
            raise ValueError("a signed transaction has 9 fields")
        return cls(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8])

    def to_json(self):
        """The HTTP API's TxInput (openapi.yaml)."""
        j = {"chain_id": self.chain_id.hex(), "nonce": self.nonce, "from": self.from_.hex(), "to": self.to.hex(),
             "amount": self.amount, "time": self.time, "public_key": base64.b64encode(self.public_key).decode(),
             "signature": base64.b64encode(self.signature).decode()}
        try:
            j["data"] = self.data.decode("utf-8")
        except UnicodeDecodeError:
            j["data_hex"] = self.data.hex()
        return j


# Sections 4 and 5: headers and blocks.

HEADER_FIELDS = ("version", "chain_id", "number", "parent", "slot", "time", "sealer", "tx_root", "state_root",
                 "reward", "difficulty", "data", "pow_nonce")


def seal_encoding(h):
    """h: dict of HEADER_FIELDS (bytes for byte fields, b'' for genesis links)."""
    return pack([h[k] for k in HEADER_FIELDS[:-1]])


def pow_hash(seal_hash, nonce):
    return sha256(seal_hash + struct.pack(">Q", nonce))


def block_id(h):
    return pow_hash(sha256(seal_encoding(h)), h["pow_nonce"])


def meets_difficulty(block_hash, difficulty):
    return difficulty <= 64 and block_hash.hex().startswith("0" * difficulty)


def mine(h):
    seal = sha256(seal_encoding(h))
    n = 0
    while not meets_difficulty(pow_hash(seal, n), h["difficulty"]):
        n += 1
    h["pow_nonce"] = n
    return h


def decode_block(b):
    """Returns (header dict, sealer_key, signature, [Tx])."""
    v = unpack(b)
    if len(v) != 4 or len(v[0]) != 13:
        raise ValueError("a block is [header(13), sealer_key, signature, [txs]]")
    h = dict(zip(HEADER_FIELDS, v[0]))
    if h["version"] != 1:
        raise ValueError("unknown header version")
    genesis = h["number"] == 1
    for k, size in (("chain_id", 32), ("parent", 32), ("sealer", 20)):
        if len(h[k]) != (0 if genesis else size):
            raise ValueError("chain_id, parent and sealer are empty exactly in block 1")
    return h, v[1], v[2], [Tx.from_fields(t) for t in v[3]]


def verify_seal(h, sealer_key, signature):
    bid = block_id(h)
    seal = sha256(seal_encoding(h))
    return (meets_difficulty(bid, h["difficulty"]) and address_of(sealer_key) == h["sealer"]
            and verify(sealer_key, seal + struct.pack(">Q", h["pow_nonce"]), signature))


# Section 6: tx_root.

def tx_root(ids):
    if not ids:
        return ZERO32
    level = [sha256(b"\x00" + i) for i in ids]
    while len(level) > 1:
        nxt = [sha256(b"\x01" + level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


# Section 7: the state tree.

def account_value(balance, nonce):
    return pack([balance, nonce])


def bit(key, i):
    return (key[i // 8] >> (7 - i % 8)) & 1


def leaf_hash(key, value):
    return sha256(b"\x00" + key + value)


def state_root(accounts):
    """accounts: {address bytes: value bytes}."""
    def root(items, depth):
        if not items:
            return ZERO32
        if len(items) == 1:
            return leaf_hash(*items[0])
        left = [kv for kv in items if bit(kv[0], depth) == 0]
        right = [kv for kv in items if bit(kv[0], depth) == 1]
        return sha256(b"\x01" + root(left, depth + 1) + root(right, depth + 1))
    return root(sorted(accounts.items()), 0)


def verify_proof(root, key, value, found, siblings, leaf=None):
    """leaf: (address, value) of another account ending an absence proof."""
    if len(siblings) > 160 or (siblings and siblings[-1] == ZERO32):
        return False
    if found:
        if leaf is not None:
            return False
        cur = leaf_hash(key, value)
    elif value:
        return False
    elif leaf is not None:
        lk, lv = leaf
        if lk == key or any(bit(lk, i) != bit(key, i) for i in range(len(siblings))):
            return False
        cur = leaf_hash(lk, lv)
    else:
        cur = ZERO32
    for i in range(len(siblings) - 1, -1, -1):
        cur = sha256(b"\x01" + (cur + siblings[i] if bit(key, i) == 0 else siblings[i] + cur))
    return cur == root


# Section 9: executing a block's transactions.

def apply_block(state, chain_id, sealer, reward, txs):
    """state: {address: (balance, nonce)}, changed in place. Raises ValueError
    naming the first rule a transaction breaks."""
    seen = set()
    for tx in txs:
        if tx.id() in seen:
            raise ValueError("duplicate")
        seen.add(tx.id())
        if not tx.verify():
            raise ValueError("bad_signature")
        if tx.chain_id != chain_id:
            raise ValueError("wrong_chain")
        bal, nonce = state.get(tx.from_, (0, 0))
        if tx.nonce != nonce + 1:
            raise ValueError("nonce_too_low" if tx.nonce <= nonce else "nonce_gap")
        if bal < tx.amount:
            raise ValueError("insufficient_funds")
        if tx.to != tx.from_ and state.get(tx.to, (0, 0))[0] + tx.amount >= 2**64:
            raise ValueError("overflow")
        # The sender's nonce always changes, so it is always written; the
        # recipient only when its balance changes (section 7).
        if tx.to == tx.from_:
            state[tx.from_] = (bal, tx.nonce)
            continue
        state[tx.from_] = (bal - tx.amount, tx.nonce)
        if tx.amount:
            tb, tn = state.get(tx.to, (0, 0))
            state[tx.to] = (tb + tx.amount, tn)
    if reward:
        sb, sn = state.get(sealer, (0, 0))
        if sb + reward >= 2**64:
            raise ValueError("overflow")
        state[sealer] = (sb + reward, sn)


# Section 8: genesis.

def genesis_block(genesis_json):
    """Builds the genesis header from the text of a genesis.json."""
    g = json.loads(genesis_json)
    bm = g["block_mining"]
    finality = g.get("finality") or "majority"
    interval_ms = int(bm["interval"] * 1000 + 0.5)  # round half away from zero (positive)
    lines = ["ccoin-genesis-v1", "network_id=%d" % g["network_id"]]
    lines += ["miner=%s" % m.lower() for m in g["miners"]]
    lines += ["interval_ms=%d" % interval_ms, "max_bound=%d" % bm["max_bound"], "min_bound=%d" % bm["min_bound"],
              "reward=%d" % bm["reward"], "difficulty=%d" % bm["difficulty"],
              "allow_empty=%s" % ("true" if bm["allow_empty"] else "false"), "finality=%s" % finality,
              "coinbase=%s" % g["genesis_block"].get("coinbase", "").lower()]
    preimage = "".join(line + "\n" for line in lines)
    accounts = {bytes.fromhex(a.lower()): account_value(v.get("balance", 0), v.get("nonce", 0))
                for a, v in g.get("alloc", {}).items()}
    h = {"version": 1, "chain_id": b"", "number": 1, "parent": b"", "slot": 0, "time": g["timestamp"] * 1000,
         "sealer": b"", "tx_root": ZERO32, "state_root": state_root(accounts), "reward": 0,
         "difficulty": g["genesis_block"]["difficulty"], "data": sha256(preimage.encode()), "pow_nonce": 0}
    return mine(h), preimage


def encode_block(h, sealer_key=b"", signature=b"", txs=()):
    return msgpack.packb([[h[k] for k in HEADER_FIELDS], sealer_key, signature,
                          [msgpack.unpackb(t.encode()) for t in txs]], use_bin_type=True)


# Section 10.1: votes and finality certificates.

VOTE_FIELDS = ("version", "chain_id", "source_epoch", "source_id", "target_epoch", "target_id", "voter")


def genesis_params(genesis_json):
    """What a client needs from genesis.json to check votes: the chain id,
    the miners (the only voters) and the quorum of distinct voters."""
    g = json.loads(genesis_json)
    h, _ = genesis_block(genesis_json)
    miners = [bytes.fromhex(m) for m in g["miners"]]
    n = len(miners)
    quorum = n * 2 // 3 + 1 if (g.get("finality") or "majority") == "two_thirds" else n // 2 + 1
    return {"chain_id": block_id(h), "miners": miners, "quorum": quorum, "genesis_header": h}


def vote_from_fields(f):
    if len(f) != 9:
        raise ValueError("malformed")
    v = dict(zip(VOTE_FIELDS + ("voter_key", "signature"), f))
    for k, size in (("chain_id", 32), ("source_id", 32), ("target_id", 32), ("voter", 20)):
        if not isinstance(v[k], bytes) or len(v[k]) != size:
            raise ValueError("malformed")
    for k in ("version", "source_epoch", "target_epoch"):
        if not isinstance(v[k], int):
            raise ValueError("malformed")
    if not isinstance(v["voter_key"], bytes) or not isinstance(v["signature"], bytes):
        raise ValueError("malformed")
    if len(v["voter_key"]) > 1024 or len(v["signature"]) > 512:
        raise ValueError("malformed")
    return v


def decode_vote(b):
    try:
        return vote_from_fields(unpack(b))
    except Exception:
        raise ValueError("malformed")


def vote_unsigned(v):
    return pack([v[k] for k in VOTE_FIELDS])


def vote_id(v):
    return sha256(vote_unsigned(v))


def encode_vote(v):
    return pack([v[k] for k in VOTE_FIELDS] + [v["voter_key"], v["signature"]])


def vote_signature_ok(v):
    return address_of(v["voter_key"]) == v["voter"] and verify(v["voter_key"], vote_unsigned(v), v["signature"])


def check_vote(gp, v, headers):
    """The validity of a vote (section 10.1), in the order the Go node checks
    it; raises ValueError(reason). headers: {block id: header dict} of the
    blocks the client knows (they must include both checkpoints' blocks)."""
    if v["version"] != 1:
        raise ValueError("wrong_version")
    if v["chain_id"] != gp["chain_id"]:
        raise ValueError("wrong_chain")
    if v["voter"] not in gp["miners"]:
        raise ValueError("voter_not_miner")
    if v["source_epoch"] >= v["target_epoch"]:
        raise ValueError("source_not_below_target")
    if not vote_signature_ok(v):
        raise ValueError("bad_signature")
    src, tgt = headers[v["source_id"]], headers[v["target_id"]]
    if src["slot"] > v["source_epoch"] or tgt["slot"] > v["target_epoch"]:
        raise ValueError("slot_above_epoch")
    tid = v["target_id"]
    while tgt["number"] > src["number"]:
        tid = tgt["parent"]
        tgt = headers[tid]
    if tid != v["source_id"]:
        raise ValueError("source_not_ancestor")


def decode_certificate(b):
    """[header(13), [signed votes]] -> (header dict, [vote dicts])."""
    try:
        f = unpack(b)
        if len(f) != 2 or len(f[0]) != 13 or not isinstance(f[1], list) or len(f[1]) > 256:
            raise ValueError("malformed")
        h = dict(zip(HEADER_FIELDS, f[0]))
        votes = [vote_from_fields(x) for x in f[1]]
    except Exception:
        raise ValueError("malformed")
    if h["version"] != 1:
        raise ValueError("malformed")
    return h, votes


def verify_certificate(gp, cert):
    """Checks a finality certificate with the genesis alone (section 10.1)
    and returns the final checkpoint (epoch, block id) and the header.
    Raises ValueError(reason), checking in the Go node's order."""
    h, votes = decode_certificate(cert)
    if not votes:
        raise ValueError("no_votes")
    hid = block_id(h)
    if h["chain_id"] != gp["chain_id"] and h["number"] != 1:
        raise ValueError("header_wrong_chain")
    first = votes[0]
    link = (first["source_epoch"], first["source_id"], first["target_epoch"], first["target_id"])
    if first["source_id"] != hid:
        raise ValueError("source_not_header")
    if first["target_epoch"] != first["source_epoch"] + 1:
        raise ValueError("non_consecutive")
    if h["slot"] > first["source_epoch"]:
        raise ValueError("slot_above_epoch")
    voters = set()
    for v in votes:
        if (v["source_epoch"], v["source_id"], v["target_epoch"], v["target_id"]) != link:
            raise ValueError("mixed_links")
        if v["version"] != 1 or v["chain_id"] != gp["chain_id"]:
            raise ValueError("vote_wrong_chain_id")
        if v["voter"] not in gp["miners"]:
            raise ValueError("voter_not_miner")
        if v["voter"] in voters:
            raise ValueError("duplicate_voter")
        if not vote_signature_ok(v):
            raise ValueError("bad_signature")
        voters.add(v["voter"])
    if len(voters) < gp["quorum"]:
        raise ValueError("too_few_voters")
    return (first["source_epoch"], hid), h


# Section 12: snapshots.

def decode_chunk(b):
    if b[0] != 1:
        raise ValueError("chunk version")
    number, index, count = struct.unpack(">QII", b[1:17])
    body = b[17:]
    if len(body) != count * 36:
        raise ValueError("chunk length")
    accounts = []
    for i in range(count):
        e = body[i * 36:(i + 1) * 36]
        accounts.append((e[:20],) + struct.unpack(">QQ", e[20:]))
    if any(accounts[i][0] >= accounts[i + 1][0] for i in range(count - 1)):
        raise ValueError("chunk addresses out of order")
    return number, index, accounts


def decode_manifest(b):
    """Manifest format 2 (PROTOCOL.md section 12): the block's sealed header
    and its finality certificate instead of version 1's sealed headers."""
    if b[0] != 2:
        raise ValueError("manifest version %d, want 2" % b[0])
    chain_id, number, bid, root, accounts, per = struct.unpack(">32sQ32s32sQI", b[1:117])
    off, fields = 117, []
    for _ in range(2):  # sealed header, certificate
        (n,) = struct.unpack(">I", b[off:off + 4])
        if off + 4 + n > len(b):
            raise ValueError("manifest truncated")
        fields.append(b[off + 4:off + 4 + n])
        off += 4 + n
    (nc,) = struct.unpack(">I", b[off:off + 4])
    chunks = [b[off + 4 + 32 * i:off + 36 + 32 * i] for i in range(nc)]
    if off + 4 + 32 * nc != len(b) or nc != -(-accounts // per):
        raise ValueError("manifest length or chunk count")
    return {"chain_id": chain_id, "number": number, "block_id": bid, "state_root": root, "accounts": accounts,
            "chunk_accounts": per, "sealed": fields[0], "certificate": fields[1], "chunks": chunks}


# HTTP.

def http_json(url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        return json.loads(e.read())


def send(node, key, to, amount, data=b""):
    """Signs a transfer with the account's next nonce and submits it."""
    der = public_der(key.public_key())
    sender = address_of(der)
    status = http_json(node + "/status")
    acct = http_json(node + "/accounts/" + sender.hex())
    tx = Tx(bytes.fromhex(status["chain_id"]), acct["next_nonce"], sender, to, amount, data, int(time.time() * 1000))
    tx.sign(key)
    res = http_json(node + "/txs", tx.to_json())["results"][0]
    if res["id"] != tx.id().hex():
        raise RuntimeError("node computed id %s, we computed %s" % (res["id"], tx.id().hex()))
    return tx, res


def main(argv):
    p = argparse.ArgumentParser(description="ccoin reference client")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--node", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--to", required=True)
    s.add_argument("--amount", type=int, required=True)
    s.add_argument("--data", default="")
    c = sub.add_parser("chain-id")
    c.add_argument("genesis")
    a = p.parse_args(argv)
    if a.cmd == "chain-id":
        with open(a.genesis) as f:
            h, _ = genesis_block(f.read())
        print(block_id(h).hex())
        return 0
    with open(a.key, "rb") as f:
        key = load_private_key(f.read())
    tx, res = send(a.node.rstrip("/"), key, bytes.fromhex(a.to), a.amount, a.data.encode())
    print(json.dumps(res))
    return 0 if res.get("accepted") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
