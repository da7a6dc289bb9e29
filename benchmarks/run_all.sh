#!/usr/bin/env bash
# Runs every benchmark, each beside its peer in the same run, and prints their tables.
#   benchmarks/run_all.sh BUILD_DIR [NAME ...]     (names: gguf tokenize decode sample baco eval
#                                                   embedding route python experiment; default: all)
# Copy the tables into benchmarks/RESULTS.md together with the machine they came from.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="$(cd "${1:?usage: run_all.sh BUILD_DIR [NAME ...]}" && pwd)"
shift
py="${BREADTH_PYTHON:-$root/.venv/bin/python}"
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(gguf tokenize decode sample baco eval embedding route python experiment)
failed=()
echo "# breadth benchmarks — $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for n in "${names[@]}"; do
  echo; echo "## $n"
  case "$n" in
    gguf)      "$py" "$here/gguf/run_bench.py" "$build/bin/bench_gguf" ;;
    tokenize)  "$py" "$here/tokenize/run.py" "$build/bin/bench_tokenize" ;;
    decode)    bash "$here/decode/run.sh" "$build" ;;
    sample)    "$py" "$here/sample/run_bench.py" "$build/bin/bench_sample" ;;
    baco)      bash "$here/baco/run.sh" "$build" ;;
    eval)      bash "$here/eval/run.sh" "$build" ;;
    embedding) bash "$here/eval/run_embedding.sh" "$build" ;;
    route)     "$py" "$here/route/run_bench.py" "$build/bin/bench_route" ;;
    python)    PYTHONPATH="$build/python" "$py" "$here/python/bench_python.py" ;;
    experiment) "$py" "$here/experiment/run.py" "$build/bin/breadth" ;;
    *) echo "unknown benchmark '$n'" >&2; false ;;
  esac || failed+=("$n")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo; echo "failed: ${failed[*]}" >&2; exit 1
fi
