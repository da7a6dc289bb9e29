#!/usr/bin/env bash
# Embedding-equivalence benchmark: breadth (bench_embed_eq, all-MiniLM-L6-v2 in libtorch) beside
# sentence-transformers + numpy (bench_embed_eq.py) on the same 100 queries x 50 answers, in the same
# run, with the same thread count. Prints a table with times, the ratio, and partition agreement.
#
# Usage: benchmarks/eval/run_embedding.sh BUILD_DIR [THRESHOLD] [REPEATS] [THREADS]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${1:?usage: run_embedding.sh BUILD_DIR [THRESHOLD] [REPEATS] [THREADS]}"
THRESHOLD="${2:-0.8}"
REPEATS="${3:-1}"
THREADS="${4:-2}"
PY="${BREADTH_PYTHON:-$ROOT/.venv/bin/python}"
SHARED="${BREADTH_SHARED_DIR:-$ROOT/../shared}"
MODEL="${BREADTH_MODELS_DIR:-$HOME/.cache/breadth/models}/all-minilm-l6-v2"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
"$PY" "$HERE/make_answer_sets.py" "$SHARED" "$TMP/sets.jsonl"
"$BUILD/bin/bench_embed_eq" "$MODEL" "$TMP/sets.jsonl" "$THRESHOLD" "$REPEATS" "$THREADS" > "$TMP/cpp.json"
"$PY" "$HERE/bench_embed_eq.py" "$MODEL" "$TMP/sets.jsonl" "$THRESHOLD" "$REPEATS" "$THREADS" > "$TMP/py.json"
"$PY" - "$TMP/cpp.json" "$TMP/py.json" "$THRESHOLD" <<'PYEOF'
import json, sys
c, p = (json.load(open(f)) for f in sys.argv[1:3])
print(f"embedding equivalence: {c['queries']} queries x {c['answers']} answers, all-MiniLM-L6-v2, "
      f"cosine > {sys.argv[3]}, {c['threads']} threads (python {p['threads']})")
print(f"{'stage':<10} {'breadth s':>10} {'python s':>10} {'speed-up':>9}")
for k in ("load", "partition"):
    cs, ps = c["seconds"][k], p["seconds"][k]
    print(f"{k:<10} {cs:>10.3f} {ps:>10.3f} {ps / cs:>8.2f}x")
same = sum(a == b for a, b in zip(c["partitions"], p["partitions"]))
print(f"mean classes: breadth {c['mean_classes']:.3f}, python {p['mean_classes']:.3f}; "
      f"identical partitions: {same}/{len(p['partitions'])}")
PYEOF
