#!/usr/bin/env python3
"""Seeds the fuzz corpora from the conformance vectors, profiles and state files
(fuzz/seeds/state_file) in fuzz/corpus/<target>.

Run from the repository root: python3 fuzz/seed.py
"""
import glob
import hashlib
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def put(target, data):
    d = os.path.join(ROOT, "fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def cases():
    """Each case of each vector file as a list of APDUs (bytes), resets as None."""
    for path in sorted(glob.glob(os.path.join(ROOT, "vectors", "**", "*.apdu"), recursive=True)):
        steps = None
        for line in open(path, encoding="utf-8"):
            line = line.split("#")[0].strip()
            if line.startswith("case "):
                if steps:
                    yield steps
                steps = []
            elif line.startswith(">") and steps is not None:
                try:
                    steps.append(bytes.fromhex(re.sub(r"\s", "", line[1:])))
                except ValueError:
                    pass
            elif line.startswith("reset") and steps is not None:
                steps.append(None)
        if steps:
            yield steps


def main():
    n = 0
    for steps in cases():
        seq = b""
        wire = b"\x00\x01\x01\x00\x01\x04"  # power on, get ATR
        for apdu in steps:
            if apdu is None:
                seq += b"\xff"
                wire += b"\x00\x01\x02"
                continue
            put("apdu_parse", apdu)
            seq += bytes([min(len(apdu), 254)]) + apdu[:254]
            wire += len(apdu).to_bytes(2, "big") + apdu
        put("card_sequence", seq)
        put("vpcd_framing", wire)
        n += 1
    for path in glob.glob(os.path.join(ROOT, "vectors", "**", "*.apdu"), recursive=True):
        put("vectors", open(path, "rb").read())
    for path in glob.glob(os.path.join(ROOT, "applet-sim", "profiles", "*.toml")) + glob.glob(
        os.path.join(ROOT, "applet-sim", "tests", "fixtures", "*.toml")
    ):
        put("profile", open(path, "rb").read())
    # State files: format 1 (migrated on opening) and format 2, of the gen3 profile.
    for path in glob.glob(os.path.join(ROOT, "fuzz", "seeds", "state_file", "*.state")):
        put("state_file", open(path, "rb").read())
    print(f"seeded from {n} cases")


if __name__ == "__main__":
    main()
