#!/usr/bin/env bash
# `make bundle`: everything a host without network needs to install ATUM DESK, built on a
# connected machine of the same distribution release (the wheels are for its Python):
#
#   dist/bundle/app/            the application (api/, docs/, infra/, README.md) with the built
#                               web UI in app/web/dist
#   dist/bundle/wheels/         a wheel of every runtime dependency (uv export + pip wheel)
#   dist/bundle/requirements.txt
#   dist/atum-desk-bundle.tar.gz   all of the above, under atum-desk-bundle/
#
# On the target: tar xzf atum-desk-bundle.tar.gz
#                sudo atum-desk-bundle/app/infra/scripts/install.sh --offline
# BUNDLE_PYTHON picks the Python the wheels are for (default python3); SKIP_WEB_BUILD=1 takes
# web/dist as it is.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python=${BUNDLE_PYTHON:-python3}
out="$repo/dist/bundle"
parts=(api/app api/migrations api/alembic.ini api/pyproject.toml api/uv.lock docs infra README.md)

"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "make-bundle: $python is older than 3.11" >&2; exit 2; }
rm -rf "$out" "$repo/dist/atum-desk-bundle.tar.gz"
mkdir -p "$out/app/api" "$out/wheels"

echo "==> requirements (uv export)"
(cd "$repo/api" && uv export --frozen --no-dev --no-hashes --format requirements-txt --quiet) \
  >"$out/requirements.txt"
cp "$out/requirements.txt" "$out/app/api/requirements.txt"

echo "==> wheels for $("$python" --version)"
"$python" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$out/wheels" \
  --no-deps -r "$out/requirements.txt"

echo "==> web UI"
if [ -f "$repo/web/package.json" ] && [ "${SKIP_WEB_BUILD:-0}" != 1 ]; then
  npm --prefix "$repo/web" ci --no-audit --no-fund
  npm --prefix "$repo/web" run build
fi
if [ -f "$repo/web/dist/index.html" ]; then
  mkdir -p "$out/app/web"
  cp -R "$repo/web/dist" "$out/app/web/dist"
else
  echo "    warning: no web/dist: the bundle installs a placeholder page instead of the web UI" >&2
fi

echo "==> application"
tar -C "$repo" --exclude=__pycache__ --exclude='*.pyc' -cf - "${parts[@]}" | tar -C "$out/app" -xf -

tar -C "$repo/dist" --transform 's,^bundle,atum-desk-bundle,' -czf "$repo/dist/atum-desk-bundle.tar.gz" bundle
echo "==> dist/atum-desk-bundle.tar.gz ($(du -h "$repo/dist/atum-desk-bundle.tar.gz" | cut -f1)," \
  "$(find "$out/wheels" -name '*.whl' | wc -l) wheels)"
