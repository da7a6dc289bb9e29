"""Fixture: invalid UTF-8 byte strings and Python's bytes.decode("utf-8", "replace") of each, the
reference for breadth's U+FFFD repair of invalid input.

usage: make_utf8_refs.py <outdir>   ->  outdir/utf8.jsonl  ({"hex": ..., "text": ...} per line)
"""
import json
import os
import random
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = random.Random(99)
cases = [b"\xff", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82",
         b"a\xe2\x82b", b"\xf0\x9f\x98", b"\xf0\x9f\x98\x80", b"\x80\x80", b"abc\xfe\xfe",
         b"\xe6\x97\xa5\xe6\x9c", b"\xc3", b"\xc3\xa9\xc3", b"\xf5\x80", b"\xe0\xa0", b"\xf0\x90\x80"]
for _ in range(400):
    n = rng.randint(1, 12)
    cases.append(bytes(rng.choice([rng.randint(0, 255), rng.randint(0x80, 0xBF),
                                   rng.choice([0xC2, 0xC3, 0xE0, 0xE2, 0xED, 0xF0, 0xF4])]) for _ in range(n)))
with open(os.path.join(out, "utf8.jsonl"), "w", encoding="utf-8") as f:
    for c in cases:
        f.write(json.dumps({"hex": c.hex(), "text": c.decode("utf-8", "replace")}, ensure_ascii=False) + "\n")
