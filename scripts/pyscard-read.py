#!/usr/bin/env python3
"""A PC/SC client in Python (pyscard) talking to the card that `ssc-card serve` puts in
pcscd's virtual reader: SELECT the SSSE, read the card number (EF05 record 7), ask how many
PIN tries are left (VERIFY without data costs none).

    ssc-card serve &                                   # the card, in "Virtual PCD 00 00"
    python3 scripts/pyscard-read.py ['Virtual PCD 00 00']

Needs pyscard (Debian: python3-pyscard; pip: pyscard). Nothing here is specific to the
virtual card: pointed at a reader holding a real social security card it does the same.
scripts/e2e-pcsc.sh runs it.
"""
import sys

from smartcard.System import readers

# The SSSE's name, "sx1.sh.社会保障" in GBK (docs/CARD.md §3.2).
SSSE = list("sx1.sh.社会保障".encode("gbk"))


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "Virtual PCD 00 00"
    known = [str(r) for r in readers()]
    if name not in known:
        sys.exit(f"no reader named {name!r}; the readers are: {', '.join(known) or 'none'}")
    connection = readers()[known.index(name)].createConnection()
    connection.connect()

    # SELECT the SSSE by name, without the FCI (P2 = 0C): 90 00.
    _, sw1, sw2 = connection.transmit([0x00, 0xA4, 0x04, 0x0C, len(SSSE)] + SSSE)
    if (sw1, sw2) != (0x90, 0x00):
        sys.exit(f"SELECT SSSE answered {sw1:02X}{sw2:02X}")

    # READ RECORD 7 of EF05 (SFI 5, P2 = 5 << 3 | 4), 11 bytes: tag 07, length 09, the number.
    data, sw1, sw2 = connection.transmit([0x00, 0xB2, 0x07, 0x2C, 0x0B])
    if (sw1, sw2) != (0x90, 0x00) or data[:1] != [0x07] or len(data) != 2 + data[1]:
        sys.exit(f"READ RECORD 7 answered {bytes(data).hex()} {sw1:02X}{sw2:02X}")
    print(f"reader       {name}")
    print(f"card number  {bytes(data[2:]).decode()}")

    # VERIFY without data: 63 Cx, x tries left (9000 once verified); never costs a try.
    _, sw1, sw2 = connection.transmit([0x00, 0x20, 0x00, 0x00])
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        print(f"PIN tries    {sw2 & 0x0F} left")
    else:
        print(f"PIN status   {sw1:02X}{sw2:02X}")


if __name__ == "__main__":
    main()
