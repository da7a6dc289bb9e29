"""Runs one example program and checks its output.

Usage: python run_example.py [--expect REGEX]... [--reject REGEX]... [--file PATH]... -- COMMAND ARGS...

Fails when the command exits non-zero, when an --expect pattern is not found in its stdout (multiline
regex search), when a --reject pattern is, or when a --file it should have written is missing/empty.
"""

import re
import subprocess
import sys
import os


def main(argv):
    sep = argv.index("--")
    opts, cmd = argv[:sep], argv[sep + 1:]
    expect, reject, files = [], [], []
    i = 0
    while i < len(opts):
        {"--expect": expect, "--reject": reject, "--file": files}[opts[i]].append(opts[i + 1])
        i += 2
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    ok = r.returncode == 0
    if not ok:
        print(f"FAIL: exit status {r.returncode}")
    for e in expect:
        if not re.search(e, r.stdout, re.M):
            print(f"FAIL: expected /{e}/ in the output")
            ok = False
    for e in reject:
        if re.search(e, r.stdout, re.M):
            print(f"FAIL: unexpected /{e}/ in the output")
            ok = False
    for f in files:
        if not os.path.isfile(f) or os.path.getsize(f) == 0:
            print(f"FAIL: {f} was not written")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
