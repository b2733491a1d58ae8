#!/usr/bin/env python3
"""An independent terminal for the issuer-security flows (docs/CARD.md §5.2, §5.4, §6, §3.7).

Drives `ssc-card shell` through a pipe and computes every cryptogram and MAC with Python's
`cryptography` and `hashlib` only — no code shared with the Rust card or PSAM — so a
mistake made the same way on both sides of the Rust code cannot hide.

Usage: independent_terminal.py SSC_CARD_BINARY PROFILE(gen3|gen2)
Exit 0 when every flow answers as the spec says; prints the first mismatch otherwise.
"""
import hashlib
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402

try:  # cryptography >= 43 moved 3DES
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:
    TripleDES = algorithms.TripleDES

SSSE = "7378312E73682EC9E7BBE1B1A3D5CF"
# The built-in PSAM's master keys (applet-sim/profiles/psam.toml: "DES-..." in its 2.0
# application, "SM4-..." in its 3.0 one) and the levels each is diversified by to the card
# key (docs/CARD.md §6.6, docs/PSAM.md §2.1): card key id -> (master name, levels).
MASTERS = {
    0x00: ("IRK-NATIONAL", ("province", "city", "card")),
    0x02: ("STK-CITY3201", ("card",)),
    0x04: ("UK--PROVINCE", ("city", "card")),
    0x05: ("BK--PROVINCE", ("city", "card")),
    0x06: ("PUK-PROVINCE", ("city", "card")),
    0x0A: ("RK--NATIONAL", ("province", "city", "card")),
}
# The built-in cards' region and ATR (applet-sim/profiles/gen3.toml, gen2.toml).
CARDS = {
    "gen3": ("320100", "3B6D0000""00814A4446""8660""3201""001C9B25"),
    "gen2": ("320100", "3B6D0000""00814A4446""8660""3201""002B4C11"),
}
KEYS = {}  # filled by main(): the card-level keys, derived here independently

PBOC = {0x01: "A0A1A2A3A4A5A6A7A8A9AAABACADAEAF", 0x02: "B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF",
        0x03: "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF"}


def ecb(alg, data, decrypt=False):
    c = Cipher(alg, modes.ECB())
    op = c.decryptor() if decrypt else c.encryptor()
    return op.update(data) + op.finalize()


def des(key, block, decrypt=False):
    """DES (8-byte key) or 2-key 3DES (16-byte key), EDE."""
    if len(key) == 8:
        key = key * 3
    elif len(key) == 16:
        key = key + key[:8]
    return ecb(TripleDES(key), block, decrypt)


class Suite:
    def __init__(self, name):
        self.name = name
        self.n = 8 if name == "des" else 16

    def enc(self, key, block):
        return des(key, block) if self.n == 8 else ecb(algorithms.SM4(key), block)

    def diversify(self, key, factor):  # §6.6
        inverse = bytes(b ^ 0xFF for b in factor)
        if self.n == 8:
            return self.enc(key, factor) + self.enc(key, inverse)
        return self.enc(key, factor + inverse)

    def card_keys(self, region, atr):  # §6.6: national -> province -> city -> card
        factors = {
            "province": region[:2].encode() + b"0000sh",
            "city": region.encode() + b"sx",
            "card": bytes.fromhex(atr)[-8:],
        }
        prefix = "DES-" if self.n == 8 else "SM4-"
        keys = {}
        for key_id, (name, levels) in MASTERS.items():
            key = (prefix + name).encode()
            for level in levels:
                key = self.diversify(key, factors[level])
            keys[key_id] = key.hex()
        return keys

    def session_key(self, key, challenge):  # §6.2
        return self.enc(key, (challenge + bytes(self.n))[: self.n])

    def cryptogram(self, ks, original):  # §6.5
        e = self.enc(ks, (original + bytes(self.n))[: self.n])
        return e if self.n == 8 else bytes(a ^ b for a, b in zip(e[:8], e[8:]))

    def mac(self, ks, data):  # §6.3
        data = data + b"\x80"
        data += bytes(-len(data) % self.n)
        chain = bytes(self.n)
        for i in range(0, len(data), self.n):
            chain = self.enc(ks, bytes(a ^ b for a, b in zip(chain, data[i:i + self.n])))
        if self.n == 8:
            return chain[:4]
        return bytes(chain[i] ^ chain[i + 4] ^ chain[i + 8] ^ chain[i + 12] for i in range(4))

    def encipher(self, ks, data):  # §6.4
        block = bytes([len(data)]) + data + b"\x80"
        block += bytes(-len(block) % self.n)
        return b"".join(self.enc(ks, block[i:i + self.n]) for i in range(0, len(block), self.n))


def purse_flow(binary, profile, suite):
    """The medical e-purse (docs/CARD.md §4.6): a load then a purchase, every MAC and TAC
    computed here from the profile's purse keys ("SM4-MED-DLK-0001" etc. in ASCII)."""
    prefix = "DES-MED-" if suite.n == 8 else "SM4-MED-"
    dlk, dpk, dtk = (f"{prefix}{k}-0001".encode() for k in ("DLK", "DPK", "DTK"))
    # §6.2: the TAC key is DTK_L XOR DTK_R for a double-length DES key, DTK for SM4.
    tac_key = bytes(a ^ b for a, b in zip(dtk[:8], dtk[8:])) if suite.n == 8 else dtk
    terminal, when = bytes.fromhex("320100000009"), bytes.fromhex("20250301120000")
    card = Card(binary, profile)
    card.expect("00A404000F" + SSSE, "9000", "SELECT SSSE")
    card.expect("0020000003123456", "9000", "VERIFY")
    card.expect("00A4040006D15600000503", "9000", "SELECT DF04")
    balance = int.from_bytes(card.expect("B026000104", "9000", "GET BALANCE"), "big")
    # Load of 50.00: INIT LOAD, MAC1 checked under SESLK, CREDIT LOAD with MAC2, TAC checked.
    amount = (5000).to_bytes(4, "big")
    init = card.expect("B02800010B01" + (amount + terminal).hex() + "10", "9000", "INIT LOAD")
    bal, seq, rnd = init[0:4], init[4:6], init[8:12]
    if int.from_bytes(bal, "big") != balance or len(init) != 16:
        fail(f"INIT LOAD: {init.hex()}")
    seslk = suite.session_key(dlk, rnd + seq + b"\x80\x00")
    if suite.mac(seslk, bal + amount + b"2" + terminal) != init[12:16]:
        fail("INIT LOAD: MAC1 does not verify under SESLK")
    mac2 = suite.mac(seslk, amount + b"2" + terminal + when)
    tac = card.expect("B02A00000B" + (when + mac2).hex() + "04", "9000", "CREDIT LOAD")
    new = (balance + 5000).to_bytes(4, "big")
    if tac != suite.mac(tac_key, new + seq + amount + b"2" + terminal + when):
        fail("CREDIT LOAD: TAC does not verify under DTK")
    # Purchase: 12.00 from the account, 3.00 self-paid, 45.00 from the pooled fund.
    amounts = b"".join(v.to_bytes(4, "big") for v in (1200, 300, 4500))
    init = card.expect("B028010113 01".replace(" ", "") + (amounts + terminal).hex() + "16",
                       "9000", "INIT PURCHASE")
    if len(init) != 0x16 or init[0:4] != new:
        fail(f"INIT PURCHASE: {init.hex()}")
    seq, rnd, tseq = init[4:6], init[18:22], bytes.fromhex("00000011")
    sespk = suite.session_key(dpk, rnd + seq + tseq[2:])
    mac1 = suite.mac(sespk, amounts + b"6" + terminal + when)
    got = card.expect("B02C01000F" + (tseq + when + mac1).hex() + "08", "9000", "DEBIT")
    if got[:4] != suite.mac(tac_key, amounts + b"6" + terminal + tseq + when):
        fail("DEBIT: TAC does not verify under DTK")
    if got[4:] != suite.mac(sespk, amounts[:4]):
        fail("DEBIT: MAC2 does not verify under SESPK")
    left = card.expect("B026000104", "9000", "GET BALANCE after")
    if int.from_bytes(left, "big") != balance + 5000 - 1200:
        fail(f"balance after: {left.hex()}")
    record = card.expect("00B201441C", "9000", "READ EF08 record 1")
    if record != seq + b"6" + terminal + when + amounts:
        fail(f"EF08 record 1: {record.hex()}")
    card.expect("B02C01000F" + (tseq + when + mac1).hex() + "08", "6901", "DEBIT again")
    card.close()


def pboc_mac(key, iv, data):  # §5.4: ISO 9797-1 MAC algorithm 3, IV = challenge
    data = data + b"\x80"
    data += bytes(-len(data) % 8)
    chain = (iv + bytes(8))[:8]
    for i in range(0, len(data), 8):
        chain = des(key[:8], bytes(a ^ b for a, b in zip(chain, data[i:i + 8])))
    if len(key) == 16:
        chain = des(key[:8], des(key[8:], chain, decrypt=True))
    return chain[:4]


class Card:
    def __init__(self, binary, profile):
        self.p = subprocess.Popen([binary, "shell", "--profile", profile], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)

    def send(self, hexstr):
        self.p.stdin.write(hexstr.replace(" ", "") + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        assert line.startswith("< "), line
        raw = bytes.fromhex(line[2:].split(":")[0].replace(" ", ""))
        data, sw = raw[:-2], raw[-2:].hex().upper()
        if sw.startswith("61"):  # T=0: GET RESPONSE
            return self.send("00C00000" + sw[2:])
        return data, sw

    def expect(self, hexstr, sw, what):
        data, got = self.send(hexstr)
        if got != sw:
            fail(f"{what}: {hexstr} answered {got}, expected {sw}")
        return data

    def close(self):
        self.p.stdin.close()
        self.p.wait()


# SM2 (GM/T 0003), written out here: `cryptography` has SM3 and SM4 but not SM2.
SM2_P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
SM2_A = SM2_P - 3
SM2_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
SM2_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
SM2_G = (0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
         0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0)


def sm3(data):
    return hashlib.new("sm3", data).digest()


def ec_add(p, q):
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0] and (p[1] + q[1]) % SM2_P == 0:
        return None
    if p == q:
        lam = (3 * p[0] * p[0] + SM2_A) * pow(2 * p[1], -1, SM2_P)
    else:
        lam = (q[1] - p[1]) * pow(q[0] - p[0], -1, SM2_P)
    x = (lam * lam - p[0] - q[0]) % SM2_P
    return x, (lam * (p[0] - x) - p[1]) % SM2_P


def ec_mul(k, p):
    r = None
    while k:
        if k & 1:
            r = ec_add(r, p)
        p = ec_add(p, p)
        k >>= 1
    return r


def on_curve(pt):
    x, y = pt
    return (y * y - (x * x * x + SM2_A * x + SM2_B)) % SM2_P == 0


def b32(n):
    return n.to_bytes(32, "big")


def sm2_digest(pub, msg, ident=b"1234567812345678"):  # e = SM3(Z_A || M)
    za = sm3(len(ident * 8).to_bytes(2, "big") + ident + b32(SM2_A) + b32(SM2_B) + b32(SM2_G[0])
             + b32(SM2_G[1]) + b32(pub[0]) + b32(pub[1]))
    return sm3(za + msg)


def sm2_verify(pub, e, sig):  # GM/T 0003.2 §7
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not (0 < r < SM2_N and 0 < s < SM2_N):
        return False
    t = (r + s) % SM2_N
    pt = ec_add(ec_mul(s, SM2_G), ec_mul(t, pub))
    return pt is not None and (int.from_bytes(e, "big") + pt[0]) % SM2_N == r


def sm2_encrypt(pub, msg, k=0x1234567):  # GM/T 0003.4, C1 (X || Y) || C3 || C2
    c1, (x2, y2) = ec_mul(k, SM2_G), ec_mul(k, pub)
    t, ct = b"", 1
    while len(t) < len(msg):
        t += sm3(b32(x2) + b32(y2) + ct.to_bytes(4, "big"))
        ct += 1
    c2 = bytes(a ^ b for a, b in zip(msg, t))
    return b32(c1[0]) + b32(c1[1]) + sm3(b32(x2) + msg + b32(y2)) + c2


def pki_mac(key, iv, data):  # §6.3's PKI variant: IV = challenge, stored key, XOR fold
    data += b"\x80"
    data += bytes(-len(data) % 16)
    c = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
    last = (c.update(data) + c.finalize())[-16:]
    return bytes(last[i] ^ last[i + 4] ^ last[i + 8] ^ last[i + 12] for i in range(4))


def pki_block(data):  # LD || data || 80 00.. to 16-byte blocks
    block = bytes([len(data)]) + data + b"\x80"
    return block + bytes(-len(block) % 16)


def pki_flows(binary):
    """The PKI application's own commands (docs/CARD.md §3.7.1) on a fresh gen3 card."""
    card = Card(binary, "gen3")
    card.expect("00A404000C53532E434552542E41444631", "9000", "SELECT SS.CERT.ADF1")
    # 80 C4: SM3 of the BCD PIN, the worked value.
    got = card.expect("80C4010305C103123456", "9000", "PIN HASH 80 C4")
    if got != sm3(bytes.fromhex("123456")) or got.hex().upper() != (
            "3DE741F445DD357BEA4E6C3FE6437036F62B5E3EC0F00D62796EDB4305ED627F"):
        fail(f"80 C4: {got.hex()}")
    # The key pair: 6982 before the user PIN.
    card.expect("8040000008C0020012C2020013", "6982", "GENERATE before the PIN")
    r = challenge(card, 16)
    card.expect("0020018110" + ecb(algorithms.SM4(sm3(bytes.fromhex("123456"))[:16]), r).hex(),
                "9000", "PKI VERIFY 01 81")
    card.expect("8040000008C0020012C2020013", "9000", "GENERATE KEY PAIR 80 40")
    card.expect("00A40000020012", "9000", "SELECT EF 0012")
    ef = card.expect("00B0000042", "9000", "READ EF 0012")
    if len(ef) != 0x42 or ef[:2] != b"\xCA\x40":
        fail(f"EF 0012: {ef.hex()}")
    pub = (int.from_bytes(ef[2:34], "big"), int.from_bytes(ef[34:], "big"))
    if not on_curve(pub):
        fail("EF 0012: the public key is not on the curve")
    card.expect("80C9820008C0020012C2020013", "9000", "EXPORT 80 C9 82 00")
    if card.expect("80C9828042", "9000", "EXPORT 80 C9 82 80") != ef:
        fail("80 C9 exported another public key than EF 0012 holds")
    # A signature by the card, verified with EF 0012's key.
    e = sm2_digest(pub, b"independent terminal")
    sig = card.expect("002A9E9A20" + e.hex() + "40", "9000", "SIGN 00 2A 9E 9A")
    if not sm2_verify(pub, e, sig):
        fail(f"the card's signature does not verify: {sig.hex()}")
    if sm2_verify(pub, sm2_digest(pub, b"another message"), sig):
        fail("the signature verifies another message")
    # The envelope: an SM4 key under the signature public key, the encryption pair's private
    # key under the SM4 key (S15, S16).
    sm4_key = bytes(range(16))
    d_enc = 0xC0FFEE
    q_enc = ec_mul(d_enc, SM2_G)
    env = sm2_encrypt(pub, sm4_key)
    plain = card.expect("804E000178C2020013C1820070" + env.hex(), "9000", "DECIPHER 80 4E")
    if plain != sm4_key:
        fail(f"80 4E: {plain.hex()}")
    card.expect("804A021012C110" + plain.hex(), "9000", "IMPORT SM4 KEY 80 4A")
    card.expect("80C2400046C0020014CA40" + (b32(q_enc[0]) + b32(q_enc[1])).hex(), "9000",
                "IMPORT PUBLIC KEY 80 C2 40 00")
    card.expect("80C2C00126C2020015CB20" + ecb(algorithms.SM4(sm4_key), b32(d_enc)).hex(), "9000",
                "IMPORT PRIVATE KEY 80 C2 C0 01")
    msg = b"0123456789ABCDEF"
    env = sm2_encrypt(q_enc, msg, k=0xABCDEF)
    data = "C2020015C18200" + f"{len(env):02X}" + env.hex()
    if card.expect(f"804E0001{len(data) // 2:02X}" + data, "9000", "DECIPHER with 0015") != msg:
        fail("the imported encryption key does not decrypt")
    # 84 5E: the admin PIN 12345678 -> 72923074, then VERIFY 00 with the new one.
    k_old = sm3(bytes.fromhex("12345678"))[:16]
    enc = ecb(algorithms.SM4(k_old), pki_block(bytes.fromhex("72923074")))
    r = challenge(card, 16)
    head = bytes.fromhex("845E010014")
    bad = bytearray(head + enc + pki_mac(k_old, r, head + enc))
    bad[-1] ^= 1
    card.expect(bytes(bad).hex(), "63C9", "ADMIN PIN CHANGE with a bad MAC")
    r = challenge(card, 16)
    card.expect((head + enc + pki_mac(k_old, r, head + enc)).hex(), "9000", "ADMIN PIN CHANGE 84 5E")
    r = challenge(card, 16)
    k_new = sm3(bytes.fromhex("72923074"))[:16]
    card.expect("0020010010" + ecb(algorithms.SM4(k_new), r).hex(), "9000", "VERIFY new admin PIN")
    # 84 D4: the ADF master key replaced, then replaced again with the new one as old key.
    old_key, new_key = b"PKI-ADF01-MK-KEY", bytes.fromhex("30343335303437393337303135333731")
    for key, nxt in ((old_key, new_key), (new_key, old_key)):
        enc = ecb(algorithms.SM4(key), pki_block(bytes(3) + nxt))
        r = challenge(card, 16)
        head = bytes.fromhex("84D4010024")
        card.expect((head + enc + pki_mac(key, r, head + enc)).hex(), "9000", "KEY UPDATE 84 D4")
    card.close()


def fail(message):
    print("FAIL", message)
    sys.exit(1)


def challenge(card, n=8):
    return card.expect(f"00840000{n:02X}", "9000", "GET CHALLENGE")


def ext_auth(card, suite, key_id):
    original, r = challenge(card), challenge(card)
    ks = suite.session_key(bytes.fromhex(KEYS[key_id]), r)
    auth = suite.cryptogram(ks, original)
    card.expect(f"008200{key_id:02X}10" + (auth + original).hex(), "9000", f"EXTERNAL AUTH {key_id:02X}")


def ssc_command(card, suite, key_id, header, data=b""):
    ks = suite.session_key(bytes.fromhex(KEYS[key_id]), challenge(card))
    signed = bytes.fromhex(header) + bytes([len(data) + 4]) + data
    return signed + suite.mac(ks, signed), ks


def main():
    binary, profile = sys.argv[1], sys.argv[2]
    suite = Suite("sm4" if profile == "gen3" else "des")
    KEYS.update(suite.card_keys(*CARDS[profile]))
    if "--print-keys" in sys.argv:
        for key_id, key in sorted(KEYS.items()):
            print(f"{profile} {key_id:02X} {key.upper()}")
        return
    card = Card(binary, profile)
    select = "00A404000F" + SSSE
    card.expect(select, "9000", "SELECT SSSE")
    # INTERNAL AUTHENTICATE: the card proves it holds the IRK.
    r1, r2 = bytes.fromhex("0102030405060708"), bytes.fromhex("1122334455667788")
    got = card.expect("0088000010" + (r1 + r2).hex() + "00", "9000", "INTERNAL AUTH")
    want = suite.cryptogram(suite.session_key(bytes.fromhex(KEYS[0]), r1), r2)
    if got != want:
        fail(f"INTERNAL AUTH: card {got.hex()} != IRK {want.hex()}")
    # EF06 after RKSSSE (gen3; free on gen2).
    ext_auth(card, suite, 0x0A)
    ssn = card.expect("00B2013414", "9000", "READ EF06 rec 1")
    if ssn[:2] != b"\x08\x12" or not ssn[2:].decode().startswith("3201"):
        fail(f"EF06 record 1: {ssn.hex()}")
    # PIN reset: block the PIN, PUK key, then 84 24 00 01 with the new PIN enciphered.
    for _ in range(3):
        card.send("0020000003111111")
    card.expect("0020000003123456", "6983", "VERIFY blocked")
    ext_auth(card, suite, 0x06)
    ks = suite.session_key(bytes.fromhex(KEYS[2]), challenge(card))
    enc = suite.encipher(ks, bytes.fromhex("654321"))
    signed = bytes.fromhex("84240001") + bytes([len(enc) + 4]) + enc
    card.expect((signed + suite.mac(ks, signed)).hex(), "9000", "PIN RESET 84 24 00 01")
    card.expect("0020000003654321", "9000", "VERIFY new PIN")
    # PIN unblock (counter only).
    for _ in range(3):
        card.send("0020000003111111")
    ext_auth(card, suite, 0x06)
    cmd, _ = ssc_command(card, suite, 0x02, "84240000")
    card.expect(cmd.hex(), "9000", "PIN UNBLOCK 84 24 00 00")
    card.expect("0020000003654321", "9000", "VERIFY after unblock")
    # Secure-messaging write after UKSSSE.
    ext_auth(card, suite, 0x04)
    cmd, _ = ssc_command(card, suite, 0x02, "04DC052C", bytes.fromhex("050420250101"))
    card.expect(cmd.hex(), "9000", "UPDATE RECORD with MAC")
    if card.expect("00B2052C06", "9000", "READ EF05 rec 5") != bytes.fromhex("050420250101"):
        fail("the SM write did not land")
    bad = bytearray(ssc_command(card, suite, 0x02, "04DC052C", bytes.fromhex("050420260101"))[0])
    bad[-1] ^= 1
    card.expect(bytes(bad).hex(), "6988", "UPDATE RECORD with a bad MAC")
    # APPLICATION BLOCK (STK), then the SSSE answers 9303.
    cmd, _ = ssc_command(card, suite, 0x02, "841E0001")
    card.expect(cmd.hex(), "9000", "APPLICATION BLOCK")
    card.expect(select, "9303", "SELECT a blocked SSSE")
    if profile == "gen3":
        # PKI VERIFY by cryptogram: SM4(SM3(PIN BCD)[0:16], 16-byte challenge).
        card.expect("00A404000C53532E434552542E41444631", "9000", "SELECT SS.CERT.ADF1")
        r = challenge(card, 16)
        key = hashlib.new("sm3", bytes.fromhex("123456")).digest()[:16]
        card.expect("0020018110" + ecb(algorithms.SM4(key), r).hex(), "9000", "PKI VERIFY 01 81")
        # The financial application: PIN RELOAD, temporary block and unblock (PBOC MAC).
        card.expect("00A4040008A000000333010101", "9000", "SELECT UnionPay")
        dprk = bytes.fromhex(PBOC[3])
        folded = bytes(a ^ b for a, b in zip(dprk[:8], dprk[8:]))
        pin = bytes.fromhex("123456")
        card.expect("805E000007" + (pin + pboc_mac(folded, bytes(8), pin)).hex(), "9000", "PIN RELOAD")
        card.expect("0020000003123456", "9000", "VERIFY reloaded bank PIN")
        damk = bytes.fromhex(PBOC[1])
        iv = challenge(card, 4)
        card.expect("841E000004" + pboc_mac(damk, iv, bytes.fromhex("841E000004")).hex(), "9000",
                    "PBOC APPLICATION BLOCK (temporary)")
        card.expect("00B2011400", "6985", "READ in a blocked application")
        iv = challenge(card, 4)
        card.expect("8418000004" + pboc_mac(damk, iv, bytes.fromhex("8418000004")).hex(), "9000",
                    "PBOC APPLICATION UNBLOCK")
    card.close()
    purse_flow(binary, profile, suite)
    # CARD BLOCK (BK) from the SSSE of a fresh card: afterwards everything answers 6A81.
    card = Card(binary, profile)
    card.expect(select, "9000", "SELECT SSSE")
    cmd, _ = ssc_command(card, suite, 0x05, "84160000")
    card.expect(cmd.hex(), "9000", "CARD BLOCK")
    card.expect(select, "6A81", "SELECT on a blocked card")
    card.expect("0084000008", "6A81", "GET CHALLENGE on a blocked card")
    card.close()
    if profile == "gen3":
        pki_flows(binary)
    print(f"ok: {profile} ({suite.name}): every issuer flow and the e-purse answered as the spec says")


if __name__ == "__main__":
    main()
