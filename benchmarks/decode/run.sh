#!/usr/bin/env bash
# Decode benchmark: breadth's native decoder beside transformers on SmolLM2-135M-Instruct (the GGUF
# Q4_1 dequantized to float32, then cast), same dtype, batch, lengths and threads, in the same run;
# breadth with the GGUF's Q4_1/Q8_0 blocks kept quantized (--weights native), which transformers
# cannot do; and llama.cpp on the same file and on F32/BF16 files made from it (llamacpp.sh, which
# builds it once into ~/.cache/breadth/llama.cpp; LLAMACPP=0 leaves it out).
#   benchmarks/decode/run.sh BUILD_DIR [MODEL.gguf]
# Env: THREADS (2), PROMPT (128), NEW (64), REPEATS (3), BATCHES (1,10), DTYPES ("float32 bfloat16"),
#      QUANTS ("Q4_K_M Q6_K": llama.cpp file types made from the model's F32 file by llamacpp.sh, run
#      by breadth --weights native and by llama.cpp; needs LLAMACPP on).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:?usage: run.sh BUILD_DIR [MODEL.gguf]}"
model="${2:-${BREADTH_MODELS_DIR:-$HOME/.cache/breadth/models}/smollm2-135m-instruct.gguf}"
py="${BREADTH_PYTHON:-$root/.venv/bin/python}"
threads="${THREADS:-2}"; prompt="${PROMPT:-128}"; new="${NEW:-64}"; repeats="${REPEATS:-3}"
batches="${BATCHES:-1,10}"; dtypes="${DTYPES:-float32 bfloat16}"
bin="$build/bin/bench_decode"
[ -x "$bin" ] || { echo "build it first: ninja -C $build bench_decode" >&2; exit 1; }
export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" TRANSFORMERS_VERBOSITY=error \
       HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TQDM_DISABLE=1
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
for dt in $dtypes; do
  # The host's bandwidth moves between minutes (41-79 GB/s on the 2-core VMs): each dtype's bound
  # is measured just before its own expanded run.
  "$bin" "$model" --dtype "$dt" --weights float --batches "$batches" --prompt "$prompt" --new "$new" \
         --repeats "$repeats" --threads "$threads" --bandwidth | tee -a "$out"
  "$bin" "$model" --dtype "$dt" --weights native --batches "$batches" --prompt "$prompt" --new "$new" \
         --repeats "$repeats" --threads "$threads" | tee -a "$out"
  "$py" "$here/bench_hf.py" "$model" --dtype "$dt" --batches "$batches" --prompt "$prompt" --new "$new" \
        --repeats "$repeats" --threads "$threads" 2>/dev/null | tee -a "$out"
done
if [ "${LLAMACPP:-1}" != 0 ]; then
  THREADS="$threads" PROMPT="$prompt" NEW="$new" REPEATS="$repeats" BATCHES="$batches" DTYPES="$dtypes" \
    BREADTH_PYTHON="$py" QUANTS="${QUANTS-Q4_K_M Q6_K}" bash "$here/llamacpp.sh" "$model" | tee -a "$out"
  # The other file types llamacpp.sh made, through breadth's native path, tagged with their type.
  for q in ${QUANTS-Q4_K_M Q6_K}; do
    f="${BREADTH_CACHE:-$HOME/.cache/breadth}/llama.cpp/$(basename "$model" .gguf)-$q.gguf"
    "$bin" "$f" --dtype float32 --weights native --batches "$batches" --prompt "$prompt" --new "$new" \
           --repeats "$repeats" --threads "$threads" |
      "$py" -c 'import json, sys
for l in sys.stdin:
    r = json.loads(l) if l.startswith("{") else None
    if r: r["file_type"] = sys.argv[1]; r["file_mib"] = float(sys.argv[2]) / 2**20
    print(json.dumps(r) if r else l, end="\n" if r else "")' "$q" "$(stat -c %s "$f")" | tee -a "$out"
  done
fi
echo
echo "SmolLM2-135M, prompt $prompt tokens, $new decode steps, $threads threads, median of $repeats runs:"
"$py" "$here/table.py" < "$out"
