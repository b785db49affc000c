#!/usr/bin/env bash
# The browser tests drive Debian's chromium (/usr/bin/chromium). Installs it when missing and we
# are root (as in CI); otherwise says how.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium not found: installing Debian's chromium for the browser tests" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
else
  echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2
  exit 1
fi
