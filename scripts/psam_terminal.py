#!/usr/bin/env python3
"""A service-centre terminal with two readers, written independently of the project's Rust
code: pyscard only, every cryptogram computed by the PSAM in the second reader through its
own APDUs (docs/PSAM.md §3-§5; docs/CARD.md §5.2, §6, §7.4). It knows no key.

Usage: psam_terminal.py CARD_READER PSAM_READER

Against `ssc-card serve --psam [--profile gen3|gen2]` behind pcscd: reads the card's region and
ATR, checks the card's INTERNAL AUTHENTICATE with the PSAM (IRK), authenticates with UK and
writes then reads back EF05's issue date, then blocks the SSSE PIN and unblocks it and resets
it with the PUK key and the STK MAC. Exit 0 when every step answers as the spec says.
"""
import os
import sys

from smartcard.System import readers

SSSE = "7378312E73682EC9E7BBE1B1A3D5CF"
PSAM_V2 = "D15600000590"                     # 2.0 PSAM (DES), by AID
PSAM_V3 = "7378332E73682EC9E7BBE1B1A3D5CF"   # 3.0 PSAM (SM4) "sx3.sh.社会保障", then DF01


class Reader:
    def __init__(self, name):
        found = [r for r in readers() if str(r) == name]
        if not found:
            fail(f"no reader {name!r} (readers: {[str(r) for r in readers()]})")
        self.name = name
        self.c = found[0].createConnection()
        self.c.connect()

    def atr(self):
        return bytes(self.c.getATR())

    def send(self, hexstr):
        """data, SW hex; 61xx followed by GET RESPONSE (T=0)."""
        data, sw1, sw2 = self.c.transmit(list(bytes.fromhex(hexstr.replace(" ", ""))))
        if sw1 == 0x61:
            data, sw1, sw2 = self.c.transmit([0x00, 0xC0, 0x00, 0x00, sw2])
        return bytes(data), f"{sw1:02X}{sw2:02X}"

    def expect(self, hexstr, sw, what):
        data, got = self.send(hexstr)
        if got != sw:
            fail(f"{self.name}: {what}: {hexstr} answered {got}, expected {sw}")
        return data


def fail(message):
    print("FAIL", message)
    sys.exit(1)


def apdu(header, data=b""):
    return header + f"{len(data):02X}" + data.hex().upper()


class Terminal:
    def __init__(self, card, psam):
        self.card, self.psam = card, psam
        fci = card.expect("00A404000F" + SSSE, "9000", "SELECT SSSE")
        self.sm4 = fci[-1] == 0x03          # FCI 9F0C { 86 01 algorithm } (docs/CARD.md §3.2)
        self.n = 16 if self.sm4 else 8
        ef05 = card.expect("00B2012C12", "9000", "EF05 record 1")   # SFI 5: 01 10 <region BCD> ...
        region = ef05[2:5].hex()
        self.factors = {
            "card": card.atr()[-8:],
            "city": region.encode() + b"sx",
            "province": region[:2].encode() + b"0000sh",
        }
        if self.sm4:
            psam.expect("00A404000F" + PSAM_V3, "9000", "SELECT 3.0 PSAM")
            psam.expect("00A4000002DF01", "9000", "SELECT DF01")
        else:
            psam.expect("00A4040006" + PSAM_V2, "9000", "SELECT 2.0 PSAM")
        print(f"card {card.atr().hex().upper()}: region {region}, {'SM4' if self.sm4 else 'DES'}")

    def block(self, data):  # one session-input block: R, or R ‖ 00×8 for SM4
        return (data + bytes(self.n))[: self.n]

    def deliver(self, usage, key_id, session_input):
        levels = ["card", "city", "province"][: usage >> 5]
        data = b"".join(self.factors[l] for l in levels) + session_input
        self.psam.expect(apdu(f"BFDE{usage:02X}{key_id:02X}", data), "9000", f"BF DE {usage:02X} {key_id:02X}")

    def encipher(self, data):
        return self.psam.expect(apdu("80FA0000", data), "9000", "80 FA 00")

    def fold(self, e):  # docs/CARD.md §6.5: 8-byte blocks as they are, 16-byte halves XORed
        return e if self.n == 8 else bytes(a ^ b for a, b in zip(e[:8], e[8:]))

    def mac(self, data):  # docs/CARD.md §6.3: zero IV ‖ data ‖ 80 00..
        padded = data + b"\x80"
        padded += bytes(-len(padded) % self.n)
        return self.psam.expect(apdu("80FA0500", bytes(self.n) + padded), "9000", "80 FA 05")

    def check_internal_auth(self):
        r1, r2 = os.urandom(8), os.urandom(8)
        answer = self.card.expect(apdu("00880000", r1 + r2), "9000", "INTERNAL AUTHENTICATE")
        self.deliver(0x67, 0x08, self.block(r1))
        if self.fold(self.encipher(self.block(r2))) != answer:
            fail("the PSAM does not confirm the card's internal authentication")
        print("internal authentication (IRK, PSAM 67/08): the card is genuine")

    def external_auth(self, card_key, usage, psam_key):
        r = self.card.expect("0084000008", "9000", "GET CHALLENGE")
        self.deliver(usage, psam_key, self.block(r))
        auth = self.fold(self.encipher(self.block(r)))
        self.card.expect(apdu(f"008200{card_key:02X}", auth + r), "9000", f"EXTERNAL AUTHENTICATE {card_key:02X}")

    def stk_command(self, header, pin=None):
        r = self.card.expect("0084000008", "9000", "GET CHALLENGE")
        self.deliver(0x26, 0x09, self.block(r))
        enc = b""
        if pin is not None:
            plain = bytes([len(pin)]) + pin + b"\x80"
            enc = self.encipher(plain + bytes(-len(plain) % self.n))
        signed = bytes.fromhex(header) + bytes([len(enc) + 4]) + enc
        return (signed + self.mac(signed)).hex().upper()


def main():
    card, psam = Reader(sys.argv[1]), Reader(sys.argv[2])
    psam.expect("00A40000023F00", "9000", "SELECT PSAM MF")
    number = psam.expect("00B0960006", "9000", "PSAM terminal number")
    print("PSAM terminal number", number.hex().upper())
    t = Terminal(card, psam)
    t.check_internal_auth()

    # Write EF05's issue date (2014-01-01: before the expiry of both built-in cards, so `card
    # read` finds nothing wrong) after external authentication with UK (card 04, PSAM 48/12).
    t.external_auth(0x04, 0x48, 0x12)
    card.expect("00A4020002EF05", "9000", "SELECT EF05")
    card.expect("00DC052806050420140101", "9000", "UPDATE RECORD issue date")
    if card.expect("00B2050006", "9000", "READ RECORD issue date") != bytes.fromhex("050420140101"):
        fail("EF05 issue date not written")
    print("UK authentication, EF05 written and read back")

    # Block the PIN, unblock it (84 24 00 00), block it again, reset it (84 24 00 01).
    def lock():
        for left in ("63C2", "63C1", "63C0"):
            card.expect("0020000003000000", left, "wrong VERIFY")
        card.expect("0020000003123456", "6983", "VERIFY of a blocked PIN")
    lock()
    t.external_auth(0x06, 0x48, 0x10)                       # PUK key (card 06, PSAM 48/10)
    card.expect(t.stk_command("84240000"), "9000", "PIN UNBLOCK")
    card.expect("0020000003123456", "9000", "VERIFY after unblock")
    lock()
    t.external_auth(0x06, 0x48, 0x10)
    card.expect(t.stk_command("84240001", bytes.fromhex("654321")), "9000", "PIN RESET")
    card.expect("0020000003654321", "9000", "VERIFY of the new PIN")
    print("PIN blocked, unblocked, blocked, reset to 654321 with the PUK key and the STK MAC")
    print("psam-terminal: all flows passed")


if __name__ == "__main__":
    main()
