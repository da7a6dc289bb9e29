#!/usr/bin/env bash
# Makes the Python package of a build importable from the project's venv: writes breadth-build.pth
# (one line: <build>/python) into the venv's site-packages. Idempotent; a no-op without the venv or
# without a Python build (BREADTH_BUILD_PYTHON=OFF).
set -euo pipefail
build="${1:-build}"
root="$(cd "$(dirname "$0")/.." && pwd)"
py="$root/.venv/bin/python"
pkg="$(cd "$root" && cd "$build" 2>/dev/null && pwd)/python"
[[ -x "$py" ]] || exit 0
[[ -d "$pkg/breadth" ]] || exit 0
site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$pkg" > "$site/breadth-build.pth"
echo "python: 'import breadth' in .venv now loads $pkg/breadth (via $site/breadth-build.pth)"
