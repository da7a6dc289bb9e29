#!/usr/bin/env bash
# Evaluation pipeline benchmark: breadth (bench_eval) beside its Python peer (bench_eval.py) on the
# same 100 queries x 50 answers, in the same run. Prints a table with per-stage times and ratios.
#
# Usage: benchmarks/eval/run.sh BUILD_DIR [REPEATS]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${1:?usage: run.sh BUILD_DIR [REPEATS]}"
REPEATS="${2:-3}"
PY="${BREADTH_PYTHON:-$ROOT/.venv/bin/python}"
SHARED="${BREADTH_SHARED_DIR:-$ROOT/../shared}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PY" "$HERE/make_answer_sets.py" "$SHARED" "$TMP/sets.jsonl"
OMP_NUM_THREADS=1 "$BUILD/bin/bench_eval" "$TMP/sets.jsonl" "$REPEATS" > "$TMP/cpp.json"
"$PY" "$HERE/bench_eval.py" "$TMP/sets.jsonl" 1 > "$TMP/py.json"
"$PY" - "$TMP/cpp.json" "$TMP/py.json" <<'PYEOF'
import json, sys
c, p = (json.load(open(f)) for f in sys.argv[1:3])
print(f"eval pipeline: {c['queries']} queries x {c['answers']} answers (ROUGE-1 equivalence, lexical metrics)")
print(f"{'stage':<15} {'breadth s':>10} {'python s':>10} {'speed-up':>9} {'breadth value':>14} {'python value':>13}")
for k in c["seconds"]:
    cs, ps = c["seconds"][k], p["seconds"][k]
    cv = c["values"].get(k); pv = p["values"].get(k)
    vals = f"{cv:>14.6f} {pv:>13.6f}" if cv is not None else ""
    print(f"{k:<15} {cs:>10.3f} {ps:>10.3f} {ps / cs:>8.1f}x {vals}")
bad = [k for k in c["values"] if abs(c["values"][k] - p["values"][k]) > 1e-9 * max(1, abs(p["values"][k]))]
print("values agree" if not bad else f"VALUES DIFFER: {bad}")
PYEOF
