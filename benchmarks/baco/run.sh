#!/usr/bin/env bash
# BACO benchmark: time per sample of BACO (p, p-punc; lazy and eager) beside aligned-only decoding of
# the same prompts, samples, lengths and batch, for breadth and for a transformers peer, in one run.
#   benchmarks/baco/run.sh BUILD_DIR [MODEL.gguf]
# Env: THREADS (2), PROMPTS (2), N (10), NEW (48), REPEATS (2), RULES (p:0.3,p-punc:0.3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:?usage: run.sh BUILD_DIR [MODEL.gguf]}"
model="${2:-${BREADTH_MODELS_DIR:-$HOME/.cache/breadth/models}/smollm2-135m-instruct.gguf}"
py="${BREADTH_PYTHON:-$root/.venv/bin/python}"
prompts_file="${BREADTH_SHARED_DIR:-$root/../shared}/data/noveltybench/curated.jsonl"
args=(--prompts "$prompts_file" --num-prompts "${PROMPTS:-2}" --n "${N:-10}" --new "${NEW:-48}"
      --repeats "${REPEATS:-2}" --threads "${THREADS:-2}" --rules "${RULES:-p:0.3,p-punc:0.3}")
bin="$build/bin/bench_baco"
[ -x "$bin" ] || { echo "build it first: ninja -C $build bench_baco" >&2; exit 1; }
export OMP_NUM_THREADS="${THREADS:-2}" MKL_NUM_THREADS="${THREADS:-2}" TRANSFORMERS_VERBOSITY=error \
       HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TQDM_DISABLE=1
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$bin" "$model" "${args[@]}" | tee -a "$out"
"$py" "$here/bench_hf.py" "$model" "${args[@]}" 2>/dev/null | tee -a "$out"
echo
"$py" "$here/table.py" < "$out"
