#!/usr/bin/env bash
# Installs uv (the Python package manager the project uses) from PyPI when it is missing.
set -euo pipefail
command -v uv >/dev/null 2>&1 && exit 0
[ -x "$HOME/.local/bin/uv" ] && exit 0
echo "uv not found: installing it from PyPI (pip install --user uv)" >&2
python3 -m pip install --user --quiet uv 2>/dev/null \
  || python3 -m pip install --user --quiet --break-system-packages uv
