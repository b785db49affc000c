#!/usr/bin/env bash
# The one place that decides which Debian packages `make test` needs, and makes sure they are here.
#   root and a package missing: apt-get installs it (as CI does, and as README promises);
#   not root and a package missing: prints the exact `sudo apt-get install …` line, exits 1,
#   before the suite starts (never a pile of FileNotFoundErrors later);
#   --list: prints the packages, one per line, and exits.
set -euo pipefail

# command (or file) the tests run -> the Debian package that provides it
declare -A package_of=(
  [/usr/bin/chromium]=chromium       # the browser tests (Playwright drives Debian's chromium)
  [nginx]=nginx                      # the deployment tests: the real site config on loopback
  [shellcheck]=shellcheck            # every shell script passes shellcheck
  [openssl]=openssl                  # certificates for the deployment and mail tests
  [psql]=postgresql-client           # provision-db.sh
  [pg_dump]=postgresql-client        # backups
  [pg_restore]=postgresql-client     # restores
  [systemd-analyze]=systemd          # unit checks
  [/usr/sbin/postfix]=postfix        # the e-mail channel: SMTP -> Postfix -> LMTP
  [/usr/sbin/dovecot]=dovecot-imapd  # the e-mail channel: the IMAP poller against Dovecot
  [wrk]=wrk                          # the bench harness at smoke size (make bench's load tool)
  [/usr/sbin/slapd]=slapd            # sign-in against a directory: a real OpenLDAP on loopback
  [ldapadd]=ldap-utils               # loads the directory's users and groups for those tests
)

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${package_of[@]}" python3-venv | sort -u
  exit 0
fi

missing=()
for need in "${!package_of[@]}"; do
  if [[ $need == /* ]]; then
    [ -x "$need" ] || missing+=("${package_of[$need]}")
  else
    command -v "$need" >/dev/null 2>&1 || missing+=("${package_of[$need]}")
  fi
done
# install.sh's offline mode makes its virtual environment with the system Python's venv module.
/usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
[ ${#missing[@]} -eq 0 ] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

if [ "$(id -u)" -ne 0 ]; then
  {
    echo "make test needs Debian packages that are not installed: ${missing[*]}"
    echo "Install them, then run make test again:"
    echo
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}"
    echo
  } >&2
  exit 1
fi

echo "make test: installing the Debian packages its tests need: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself: the tests give it their own configuration, so none.
if printf '%s\n' "${missing[@]}" | grep -qx postfix && command -v debconf-set-selections >/dev/null; then
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The tests start their own Postfix and Dovecot on loopback ports; the system-wide services the
# packages may have started are not needed and would hold port 25 or 143.
for service in postfix dovecot; do
  if printf '%s\n' "${missing[@]}" | grep -q "^$service"; then
    if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
      systemctl disable --now "$service" >/dev/null 2>&1 || true
    fi
  fi
done
echo "make test: installed ${missing[*]}" >&2
