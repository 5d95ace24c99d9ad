"""Checks ccoin_client against the published vectors in testdata/, offline.

Run: python3 clients/python/test_vectors.py   (needs python3-msgpack and
python3-cryptography; on Debian, /usr/bin/python3 has both).
"""

import base64
import json
import os
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ccoin_client as cc  # noqa: E402

TESTDATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata")


def load(name):
    with open(os.path.join(TESTDATA, name)) as f:
        return json.load(f)


def h(s):
    return bytes.fromhex(s)


def b64(s):
    return base64.b64decode(s, validate=True)


class Keys(unittest.TestCase):
    def test_keys_and_addresses(self):
        v = load("vectors.json")
        for k in [v["key"]] + v["keys"]:
            key = cc.load_private_key(k["private_key_pem"].encode())
            der = cc.public_der(key.public_key())
            self.assertEqual(base64.b64encode(der).decode(), k["public_key_der_base64"])
            self.assertEqual(cc.address_of(der).hex(), k["address"])

    def test_sign_and_verify(self):
        v = load("vectors.json")
        key = cc.load_private_key(v["key"]["private_key_pem"].encode())
        t = v["transaction"]
        tx = cc.Tx(h(t["chain_id"]), t["nonce"], h(t["from"]), h(t["to"]), t["amount"], t["data"].encode(), t["time"])
        tx.sign(key)
        self.assertTrue(tx.verify())
        self.assertEqual(tx.id().hex(), t["id"])
        # The Go node's signature verifies here too.
        tx.signature = b64(t["signature_base64"])
        self.assertTrue(tx.verify())
        tx.signature = tx.signature[:-1] + bytes([tx.signature[-1] ^ 1])
        self.assertFalse(tx.verify())


class Transactions(unittest.TestCase):
    def check(self, t, data):
        tx = cc.Tx(h(t["chain_id"]), t["nonce"], h(t["from"]), h(t["to"]), t["amount"], data, t["time"])
        self.assertEqual(tx.unsigned().hex(), t["unsigned_encoding_hex"])
        self.assertEqual(tx.id().hex(), t["id"])
        d = cc.Tx.decode(h(t.get("signed_encoding_hex") or t["signed_encoding_hex"]))
        self.assertEqual(d.id(), tx.id())
        self.assertTrue(d.verify())
        self.assertEqual(d.encode().hex(), t["signed_encoding_hex"])

    def test_first_transaction(self):
        t = load("vectors.json")["transaction"]
        self.check(t, t["data"].encode())

    def test_transactions(self):
        for t in load("vectors.json")["transactions"]:
            with self.subTest(t["comment"]):
                data = h(t["data_hex"])
                if "data" in t:
                    self.assertEqual(t["data"].encode(), data)
                self.check(t, data)
                if "data_hex" in cc.Tx.decode(h(t["signed_encoding_hex"])).to_json():
                    self.assertNotIn("data", t)

    def test_rejected(self):
        for r in load("vectors.json")["rejected"]:
            with self.subTest(r["comment"]):
                with self.assertRaises(Exception):
                    if r["kind"] == "transaction":
                        cc.Tx.decode(h(r["hex"]))
                    elif r["kind"] == "block":
                        cc.decode_block(h(r["hex"]))
                    else:
                        cc.decode_block(cc.repack([cc.unpack(h(r["hex"])), b"", b"", []]))

    def test_accounts(self):
        for a in load("vectors.json")["accounts"]:
            self.assertEqual(cc.account_value(a["balance"], a["nonce"]).hex(), a["encoding_hex"])


class Blocks(unittest.TestCase):
    def test_block_with_txs(self):
        v = load("vectors.json")["block_with_txs"]
        hd, key, sig, txs = cc.decode_block(h(v["encoding_hex"]))
        self.assertEqual(cc.seal_encoding(hd).hex(), v["seal_encoding_hex"])
        self.assertEqual(cc.sha256(cc.seal_encoding(hd)).hex(), v["seal_hash"])
        self.assertEqual((cc.sha256(cc.seal_encoding(hd)) + struct.pack(">Q", hd["pow_nonce"])).hex(), v["pow_input_hex"])
        self.assertEqual(cc.block_id(hd).hex(), v["id"])
        self.assertEqual([t.id().hex() for t in txs], v["tx_ids"])
        self.assertEqual(cc.tx_root([t.id() for t in txs]).hex(), v["tx_root"])
        self.assertTrue(all(t.verify() for t in txs))
        self.assertTrue(cc.verify_seal(hd, key, sig))
        self.assertEqual(cc.encode_block(hd, key, sig, txs).hex(), v["encoding_hex"])
        self.assertEqual(cc.encode_block(hd, key, sig).hex(), v["sealed_header_encoding_hex"])

    def test_first_block(self):
        v = load("vectors.json")["block"]
        hd, key, sig, txs = cc.decode_block(h(v["encoding_hex"]))
        self.assertEqual(cc.block_id(hd).hex(), v["id"])
        self.assertTrue(cc.verify_seal(hd, key, sig))

    def test_tx_roots(self):
        for r in load("vectors.json")["tx_roots"]:
            self.assertEqual(cc.tx_root([h(i) for i in r["ids"]]).hex(), r["root"])


class Execution(unittest.TestCase):
    def test_block_execution(self):
        v = load("execution-vectors.json")
        state = {h(a["address"]): (a["balance"], a["nonce"]) for a in v["pre_state"]}
        self.assertEqual(cc.state_root({k: cc.account_value(*x) for k, x in state.items()}).hex(), v["pre_state_root"])
        hd, key, sig, txs = cc.decode_block(h(v["block_hex"]))
        self.assertEqual(cc.block_id(hd).hex(), v["block_id"])
        self.assertTrue(cc.verify_seal(hd, key, sig))
        self.assertEqual(cc.tx_root([t.id() for t in txs]), hd["tx_root"])
        cc.apply_block(state, h(v["chain_id"]), hd["sealer"], hd["reward"], txs)
        self.assertEqual(sorted((k.hex(), b, n) for k, (b, n) in state.items()),
                         [(a["address"], a["balance"], a["nonce"]) for a in v["post_state"]])
        root = cc.state_root({k: cc.account_value(*x) for k, x in state.items()})
        self.assertEqual(root.hex(), v["post_state_root"])
        self.assertEqual(root, hd["state_root"])

    def test_invalid(self):
        v = load("execution-vectors.json")
        for inv in v["invalid"]:
            with self.subTest(inv["comment"]):
                state = {h(a["address"]): (a["balance"], a["nonce"]) for a in v["pre_state"]}
                txs = [cc.Tx.decode(h(x)) for x in inv["txs_hex"]]
                with self.assertRaisesRegex(ValueError, inv["error"]):
                    cc.apply_block(state, h(v["chain_id"]), b"\x00" * 20, 0, txs)


class Genesis(unittest.TestCase):
    def test_genesis_blocks(self):
        for c in load("genesis-vectors.json")["cases"]:
            with self.subTest(c["comment"]):
                hd, preimage = cc.genesis_block(c["genesis_json"])
                self.assertEqual(preimage, c["config_preimage"])
                self.assertEqual(hd["data"].hex(), c["config_hash"])
                self.assertEqual(hd["state_root"].hex(), c["state_root"])
                self.assertEqual(cc.seal_encoding(hd).hex(), c["seal_encoding_hex"])
                self.assertEqual(hd["pow_nonce"], c["pow_nonce"])
                self.assertEqual(cc.block_id(hd).hex(), c["id"])
                self.assertEqual(cc.encode_block(hd).hex(), c["encoding_hex"])


class Proofs(unittest.TestCase):
    def test_state_root(self):
        v = load("proof-vectors.json")
        accts = {h(a["address"]): h(a["value_hex"]) for a in v["accounts"]}
        self.assertEqual(cc.state_root(accts).hex(), v["root"])

    def test_proofs(self):
        kinds = set()
        for p in load("proof-vectors.json")["proofs"]:
            with self.subTest(p["comment"]):
                leaf = (h(p["leaf"]["address"]), h(p["leaf"]["value_hex"])) if p["leaf"] else None
                sibs = [h(s) for s in p["siblings"]]
                args = (h(p["root"]), h(p["address"]), h(p["value_hex"]), p["found"], sibs, leaf)
                self.assertTrue(cc.verify_proof(*args))
                kinds.add("present" if p["found"] else "absent-leaf" if leaf else "absent-empty")
                if sibs:  # a changed sibling breaks it
                    bad = list(sibs)
                    bad[0] = bytes([bad[0][0] ^ 1]) + bad[0][1:]
                    self.assertFalse(cc.verify_proof(args[0], args[1], args[2], args[3], bad, leaf))
        self.assertEqual(kinds, {"present", "absent-leaf", "absent-empty"})


class Finality(unittest.TestCase):
    def setUp(self):
        self.v = load("finality-vectors.json")
        genesis_json = load("genesis-vectors.json")["cases"][0]["genesis_json"]
        self.gp = cc.genesis_params(genesis_json)
        b2, _, _, _ = cc.decode_block(h(load("execution-vectors.json")["block_hex"]))
        self.headers = {self.gp["chain_id"]: self.gp["genesis_header"], cc.block_id(b2): b2}

    def test_genesis(self):
        g = self.v["genesis"]
        self.assertEqual(self.gp["chain_id"].hex(), g["chain_id"])
        self.assertEqual([m.hex() for m in self.gp["miners"]], g["miners"])
        self.assertEqual(self.gp["quorum"], g["quorum"])

    def test_vote(self):
        x = self.v["vote"]
        v = {k: (h(x[k]) if isinstance(x[k], str) else x[k]) for k in cc.VOTE_FIELDS}
        self.assertEqual(cc.vote_unsigned(v).hex(), x["unsigned_encoding_hex"])
        self.assertEqual(cc.vote_id(v).hex(), x["id"])
        d = cc.decode_vote(h(x["signed_encoding_hex"]))
        self.assertEqual(cc.vote_id(d).hex(), x["id"])
        self.assertEqual(base64.b64encode(d["voter_key"]).decode(), x["voter_key_der_base64"])
        self.assertEqual(base64.b64encode(d["signature"]).decode(), x["signature_base64"])
        self.assertEqual(cc.encode_vote(d).hex(), x["signed_encoding_hex"])
        self.assertTrue(cc.vote_signature_ok(d))
        cc.check_vote(self.gp, d, self.headers)
        for j in self.v["justification_hex"]:
            cc.check_vote(self.gp, cc.decode_vote(h(j)), self.headers)
        # A vote signed here verifies as the Go node's does.
        key = cc.load_private_key(load("vectors.json")["keys"][0]["private_key_pem"].encode())
        d["signature"] = cc.sign(key, cc.vote_unsigned(d))
        cc.check_vote(self.gp, d, self.headers)

    def test_certificate(self):
        c = self.v["certificate"]
        (epoch, bid), hd = cc.verify_certificate(self.gp, h(c["encoding_hex"]))
        self.assertEqual((epoch, bid.hex(), hd["number"]), (c["final_epoch"], c["final_id"], c["final_number"]))
        self.assertEqual(cc.pack([hd[k] for k in cc.HEADER_FIELDS]).hex(), c["header_encoding_hex"])
        # Changing any vote's signature breaks it.
        _, votes = cc.decode_certificate(h(c["encoding_hex"]))
        votes[1]["signature"] = votes[1]["signature"][:-1] + bytes([votes[1]["signature"][-1] ^ 1])
        bad = cc.repack([[hd[k] for k in cc.HEADER_FIELDS], [cc.unpack(cc.encode_vote(v)) for v in votes]])
        with self.assertRaisesRegex(ValueError, "bad_signature"):
            cc.verify_certificate(self.gp, bad)

    def test_refused_votes(self):
        for r in self.v["refused_votes"]:
            with self.subTest(r["comment"]):
                with self.assertRaisesRegex(ValueError, "^%s$" % r["reason"]):
                    cc.check_vote(self.gp, cc.decode_vote(h(r["encoding_hex"])), self.headers)

    def test_refused_certificates(self):
        for r in self.v["refused_certificates"]:
            with self.subTest(r["comment"]):
                with self.assertRaisesRegex(ValueError, "^%s$" % r["reason"]):
                    cc.verify_certificate(self.gp, h(r["encoding_hex"]))

    def test_offences(self):
        for o in self.v["offences"]:
            a, b = cc.decode_vote(h(o["first_hex"])), cc.decode_vote(h(o["second_hex"]))
            for x in (a, b):
                cc.check_vote(self.gp, x, self.headers)
            double = a["target_epoch"] == b["target_epoch"] and a["target_id"] != b["target_id"]
            surround = any(x["source_epoch"] < y["source_epoch"] and y["target_epoch"] < x["target_epoch"]
                           for x, y in ((a, b), (b, a)))
            self.assertEqual(o["kind"], "double_vote" if double else "surround_vote" if surround else None)


class Snapshots(unittest.TestCase):
    def test_snapshot(self):
        v = load("snapshot-vectors.json")
        m = cc.decode_manifest(h(v["manifest_hex"]))
        self.assertEqual(m["state_root"].hex(), v["state_root"])
        accts = {}
        for i, c in enumerate(v["chunks"]):
            enc = h(c["encoding_hex"])
            self.assertEqual(cc.sha256(enc), m["chunks"][i])
            number, index, accounts = cc.decode_chunk(enc)
            self.assertEqual((number, index), (m["number"], i))
            for addr, bal, nonce in accounts:
                accts[addr] = cc.account_value(bal, nonce)
        self.assertEqual(cc.state_root(accts), m["state_root"])
        hd, key, sig, txs = cc.decode_block(m["sealed"])
        self.assertEqual(cc.block_id(hd), m["block_id"])
        self.assertTrue(cc.verify_seal(hd, key, sig))
        self.assertEqual(m["sealed"].hex(), v["sealed_header_hex"])
        self.assertEqual(m["certificate"].hex(), v["certificate_hex"])


if __name__ == "__main__":
    unittest.main()
