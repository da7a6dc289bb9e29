"""Runs one example program and checks its output.

Usage: python run_example.py [--expect REGEX]... [--reject REGEX]... [--value REGEX COND]... [--file PATH]...
                             [--require PATH]... -- COMMAND ARGS...

Fails when the command exits non-zero, when an --expect pattern is not found in its stdout (multiline
regex search), when a --reject pattern is, when a --file it should have written is missing/empty, or
when a --value check does not hold: REGEX's first group on every matching line is a number and COND
(`==N`, `>=N`, `<=N`, `>N`, `<N`) holds for each; at least one line must match; or when a --count
REGEX VALUE_REGEX check does not: the number of lines matching REGEX must equal the number VALUE_REGEX's
first group reads (a reported total is the number of items listed).

--require PATH names an input from setup (real weights): when it is missing the test fails saying how
to get it (`make setup`), unless BREADTH_ALLOW_MISSING_MODELS=1, when it exits with SKIP_CODE (77), which
ctest reports as skipped (the test's SKIP_RETURN_CODE).
"""

import operator
import os
import re
import subprocess
import sys

SKIP_CODE = 77
OPS = {"==": operator.eq, ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


def check_value(regex, cond, out):
    m = re.fullmatch(r"(==|>=|<=|>|<)\s*(-?[0-9.]+)", cond)
    if not m:
        raise SystemExit(f"bad --value condition {cond!r}")
    op, bound = OPS[m.group(1)], float(m.group(2))
    found = [float(x.group(1)) for x in re.finditer(regex, out, re.M)]
    if not found:
        print(f"FAIL: expected /{regex}/ in the output")
        return False
    bad = [v for v in found if not op(v, bound)]
    for v in bad:
        print(f"FAIL: /{regex}/ gave {v:g}, expected {cond}")
    return not bad


def main(argv):
    sep = argv.index("--")
    opts, cmd = argv[:sep], argv[sep + 1:]
    expect, reject, files, values, counts, required = [], [], [], [], [], []
    i = 0
    while i < len(opts):
        if opts[i] in ("--value", "--count"):
            (values if opts[i] == "--value" else counts).append((opts[i + 1], opts[i + 2]))
            i += 3
            continue
        {"--expect": expect, "--reject": reject, "--file": files, "--require": required}[opts[i]].append(opts[i + 1])
        i += 2
    for path in required:
        if not os.path.exists(path):
            if os.environ.get("BREADTH_ALLOW_MISSING_MODELS") == "1":
                print(f"SKIP: {path} is missing (BREADTH_ALLOW_MISSING_MODELS=1)")
                return SKIP_CODE
            print(f"FAIL: {path} is missing: run `make setup` (scripts/setup.sh) to download it "
                  "(BREADTH_ALLOW_MISSING_MODELS=1 skips the tests that need it)")
            return 1
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
    for regex, cond in values:
        ok = check_value(regex, cond, r.stdout) and ok
    for regex, total in counts:
        n = len(re.findall(regex, r.stdout, re.M))
        ok = check_value(total, f"=={n}", r.stdout) and ok
    for f in files:
        if not os.path.isfile(f) or os.path.getsize(f) == 0:
            print(f"FAIL: {f} was not written")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
