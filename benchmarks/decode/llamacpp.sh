#!/usr/bin/env bash
# llama.cpp as the decode benchmark's peer: built from the llama.cpp that the `llama-cpp-python` source
# package vendors (PyPI sdist, the one outside source this machine kind can reach), cached in
# $BREADTH_CACHE/llama.cpp (default ~/.cache/breadth/llama.cpp) and built only when a benchmark asks.
#   benchmarks/decode/llamacpp.sh MODEL.gguf          -> prints JSON lines like bench_decode's
# Env: THREADS (2), PROMPT (128), NEW (64), REPEATS (3), BATCHES (1,10), DTYPES ("float32 bfloat16"),
#      LLAMA_CPP_PYTHON_VERSION (0.3.36), BREADTH_PYTHON (the venv's python, for pip download).
# The same GGUF runs as shipped (its Q4_1/Q8_0 blocks: impl "llama.cpp", weights "native") and as
# F32/BF16 files made from it with llama-quantize (weights "float", like breadth's --weights float).
# QUANTS ("Q4_K_M Q6_K"): other llama.cpp file types, made with llama-quantize from the F32 file
# (from float32 weights, as a release's files are made), each run as shipped (weights "native" with
# "file_type" set); run.sh runs breadth on the same files.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
model="${1:?usage: llamacpp.sh MODEL.gguf}"
py="${BREADTH_PYTHON:-$root/.venv/bin/python}"
version="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
cache="${BREADTH_CACHE:-$HOME/.cache/breadth}/llama.cpp"
threads="${THREADS:-2}"; prompt="${PROMPT:-128}"; new="${NEW:-64}"; repeats="${REPEATS:-3}"
batches="${BATCHES:-1,10}"; dtypes="${DTYPES:-float32 bfloat16}"
src="$cache/llama_cpp_python-$version/vendor/llama.cpp"
bin="$cache/build-$version/bin"

if [ ! -x "$bin/llama-batched-bench" ] || [ ! -x "$bin/llama-quantize" ]; then
  mkdir -p "$cache"
  if [ ! -d "$src" ]; then
    echo "llama.cpp: fetching the llama-cpp-python $version source package" >&2
    "$py" -m pip download --quiet --no-binary :all: --no-deps --no-build-isolation \
      "llama-cpp-python==$version" -d "$cache" >&2
    tar xzf "$cache/llama_cpp_python-$version.tar.gz" -C "$cache"
  fi
  echo "llama.cpp: building llama-batched-bench and llama-quantize (native CPU flags)" >&2
  cmake -S "$src" -B "$cache/build-$version" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_TOOLS=ON >/dev/null
  ninja -C "$cache/build-$version" llama-batched-bench llama-quantize >/dev/null
fi

# One GGUF per precision, made once from the shipped file.
declare -A files=([native]="$model")
quants="${QUANTS-Q4_K_M Q6_K}"
[ -n "$quants" ] && case " $dtypes " in *" float32 "*) ;; *) dtypes="$dtypes float32" ;; esac
for dt in $dtypes; do
  case "$dt" in float32) t=F32 ;; bfloat16) t=BF16 ;; *) echo "unknown dtype $dt" >&2; exit 2 ;; esac
  f="$cache/$(basename "$model" .gguf)-$t.gguf"
  [ -f "$f" ] || "$bin/llama-quantize" --allow-requantize "$model" "$f" "$t" >/dev/null 2>&1
  files[$dt]="$f"
done
for q in $quants; do
  f="$cache/$(basename "$model" .gguf)-$q.gguf"
  [ -f "$f" ] || "$bin/llama-quantize" "${files[float32]}" "$f" "$q" >/dev/null 2>&1
  files[$q]="$f"
done

# llama-batched-bench: prompt and generation speed for each number of parallel sequences (-npl), the
# shape of breadth's batch. Median of REPEATS runs per (file, batch).
for key in "${!files[@]}"; do
  outs=()
  for ((r = 0; r < repeats; ++r)); do
    outs+=("$("$bin/llama-batched-bench" -m "${files[$key]}" -c $(( (prompt + new) * 16 )) -b 2048 -ub 512 \
      -npp "$prompt" -ntg "$new" -npl "$batches" -t "$threads" -tb "$threads" --output-format jsonl 2>/dev/null)")
  done
  printf '%s\n' "${outs[@]}" | "$py" -c '
import json, statistics, sys
key, prompt, new, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = [json.loads(l) for l in sys.stdin if l.strip().startswith("{")]
for pl in sorted({r["pl"] for r in rows}):
    rs = [r for r in rows if r["pl"] == pl]
    file_type = key if key not in ("native", "float32", "bfloat16") else None
    dtype, weights = ("float32", "native") if key == "native" or file_type else (key, "float")
    print(json.dumps({"kind": "run", "impl": "llama.cpp", "dtype": dtype, "weights": weights, "batch": pl,
                      "file_type": file_type, "prompt": prompt, "new": new, "threads": threads,
                      "prefill_tok_s": statistics.median(r["speed_pp"] for r in rs),
                      "decode_tok_s": statistics.median(r["speed_tg"] for r in rs)}))
' "$key" "$prompt" "$new" "$threads"
done
