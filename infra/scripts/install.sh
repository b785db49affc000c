#!/usr/bin/env bash
# ATUM DESK installer for Debian 12 and Ubuntu 22.04 or newer. Run it as root from a checkout, or
# from an unpacked `make bundle` on a host without network. Running it again changes only what
# differs, and an upgrade is the same command on a newer checkout or bundle.
#
#   sudo infra/scripts/install.sh [--public-url https://desk.example.com]
#   sudo infra/scripts/install.sh --tls-cert fullchain.pem --tls-key privkey.pem
#   sudo atum-desk-bundle/app/infra/scripts/install.sh --offline
#   infra/scripts/install.sh --prefix /tmp/stage      # stage the files only
#   infra/scripts/install.sh --dry-run                # print what it would do, do nothing
#
# Options:
#   --public-url URL   the https address users open (first install; default https://<fqdn>)
#   --tls-cert FILE --tls-key FILE
#                      use this certificate (PEM, full chain) instead of a self-signed one
#   --offline          no network: Python packages from the bundle's wheels, the web UI from the
#                      bundle, Debian packages only from the configured local sources
#   --bundle DIR       the unpacked bundle (default: the directory holding this app, if it has
#                      wheels/)
#   --prefix DIR       install the files under DIR instead of / and leave the running system
#                      alone: no packages, users, database, migrations, systemctl or nginx reload
#   --dry-run          print every change it would make, make none
#   --no-start         do not start or restart the services
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
umask 022

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$(cd "$here/../.." && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

app_home=/opt/atum-desk
etc_dir=/etc/atum-desk
backup_dir=/var/backups/atum-desk
service_user=atum-desk
nginx_user=www-data
db_name=atum_desk
db_owner=atum_desk_owner
db_app=atum_desk
app_parts=(api/app api/migrations api/alembic.ini api/pyproject.toml api/uv.lock
  api/requirements.txt docs infra README.md)
units=(atum-desk.target atum-desk-api.service atum-desk-worker.service atum-desk-lmtp.service
  atum-desk-backup.service atum-desk-backup.timer)

prefix=""
dry_run=0
offline=0
bundle=""
public_url=""
tls_cert_in=""
tls_key_in=""
start=1

die() {
  echo "install: error: $*" >&2
  exit 2
}
usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --offline) offline=1; shift ;;
    --bundle) bundle=${2:?--bundle needs a directory}; shift 2 ;;
    --public-url) public_url=${2:?--public-url needs a URL}; shift 2 ;;
    --tls-cert) tls_cert_in=${2:?--tls-cert needs a file}; shift 2 ;;
    --tls-key) tls_key_in=${2:?--tls-key needs a file}; shift 2 ;;
    --no-start) start=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

if [ -n "$prefix" ]; then
  [[ $prefix == /* ]] || die "--prefix needs an absolute path"
  prefix=${prefix%/}
fi
live=1 # acts on the running system (packages, users, database, services)
[ -n "$prefix" ] && live=0
if [ "$live" -eq 1 ] && [ "$dry_run" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  die "run as root (or use --prefix DIR / --dry-run)"
fi
if [ -n "$public_url" ] \
  && [[ ! ${public_url%/} =~ ^https://(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$ ]]; then
  die "--public-url must be https://HOST or https://HOST:PORT, without a path"
fi
if [ -n "$tls_cert_in" ] || [ -n "$tls_key_in" ]; then
  if [ ! -r "$tls_cert_in" ] || [ ! -r "$tls_key_in" ]; then
    die "--tls-cert and --tls-key need readable files"
  fi
fi
if [ "$offline" -eq 1 ]; then
  [ -n "$bundle" ] || bundle="$(cd "$src/.." && pwd)"
  [ -d "$bundle/wheels" ] || die "--offline: no wheels/ in $bundle (make one with 'make bundle')"
fi

changed=0 # number of changes made (or, under --dry-run, planned)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- output and change helpers ------------------------------------------------------------------

step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
did() {
  changed=$((changed + 1))
  if [ "$dry_run" -eq 1 ]; then printf '    would %s\n' "$*"; else printf '    %s\n' "$*"; fi
}
skipped() { printf '    skipped (--prefix): %s\n' "$*"; }
at() { printf '%s%s' "$prefix" "$1"; }

# run CMD...: run a command that changes the system (printed instead under --dry-run).
run() {
  if [ "$dry_run" -eq 1 ]; then
    printf '    would run: %s\n' "$*"
  else
    "$@"
  fi
}

owner_of() { stat -c '%U:%G' "$1"; }
mode_is() { [ "$((8#$(stat -c '%a' "$1")))" -eq "$((8#$2))" ]; }

# ensure_dir PATH MODE [OWNER]: PATH (below the prefix) exists with this mode (and owner).
ensure_dir() {
  local path owner=${3:-root:root} mode=$2
  path=$(at "$1")
  if [ ! -d "$path" ]; then
    if [ "$live" -eq 1 ]; then did "create $1/ ($mode $owner)"; else did "create $1/ ($mode)"; fi
    [ "$dry_run" -eq 1 ] && return 0
    mkdir -p "$path"
    chmod "$mode" "$path"
  elif ! mode_is "$path" "$mode"; then
    did "chmod $mode $1/"
    run chmod "$mode" "$path"
  fi
  if [ "$live" -eq 1 ] && [ "$(owner_of "$path")" != "$owner" ]; then
    did "chown $owner $1/"
    run chown "$owner" "$path"
  fi
}

# put_file SOURCE DEST MODE [OWNER]: install SOURCE as DEST (below the prefix) when its bytes,
# mode or owner differ.
put_file() {
  local source=$1 dest="$prefix$2" mode=$3 owner=${4:-root:root} staged ownership=()
  if [ -f "$dest" ] && [ ! -L "$dest" ] && cmp -s "$source" "$dest"; then
    if ! mode_is "$dest" "$mode"; then
      did "chmod $mode $2"
      run chmod "$mode" "$dest"
    fi
    if [ "$live" -eq 1 ] && [ "$(owner_of "$dest")" != "$owner" ]; then
      did "chown $owner $2"
      run chown "$owner" "$dest"
    fi
    return 0
  fi
  [ "$live" -eq 1 ] && ownership=(-o "${owner%%:*}" -g "${owner##*:}")
  if [ -e "$dest" ]; then
    did "update $2"
    [ "$dry_run" -eq 1 ] && return 0
    # Replaced in one step: a running process never reads a half-written file.
    staged="$dest.atum-new"
    install -m "$mode" "${ownership[@]}" "$source" "$staged"
    mv -f "$staged" "$dest"
  else
    did "install $2"
    [ "$dry_run" -eq 1 ] && return 0
    [ -d "${dest%/*}" ] || mkdir -p "${dest%/*}"
    install -m "$mode" "${ownership[@]}" "$source" "$dest"
  fi
}

# put_text DEST MODE [OWNER] < TEXT
put_text() {
  local staged
  staged=$(mktemp "$tmp/text.XXXXXX")
  cat >"$staged"
  put_file "$staged" "$@"
}

# tree_listing DIR: "PATH<TAB>MODE<TAB>OWNER<TAB>SHA256" for every file below DIR (compiled Python
# caches aside). One pass over the tree, so checking an unchanged tree is cheap.
tree_listing() {
  local dir=$1 path mode owner sum
  [ -d "$dir" ] || return 0
  declare -A sums=()
  while read -r sum path; do
    sums[${path#./}]=$sum
  done < <(cd "$dir" && find . -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 \
    | xargs -0 -r sha256sum)
  while IFS=$'\t' read -r path mode owner; do
    printf '%s\t%s\t%s\t%s\n' "$path" "$mode" "$owner" "${sums[$path]:-}"
  done < <(cd "$dir" && find . -type f ! -path '*/__pycache__/*' ! -name '*.pyc' \
    -printf '%P\t%m\t%u:%g\n' | LC_ALL=C sort)
}

# sync_tree SOURCE_DIR DEST_DIR: DEST_DIR (below the prefix) holds exactly SOURCE_DIR's files,
# root-owned, 0644 or (when executable in the source) 0755; compiled Python caches are left alone.
sync_tree() {
  local source=$1 dest=$2 path mode owner sum wanted
  declare -A have_mode=() have_owner=() have_sum=() seen=()
  while IFS=$'\t' read -r path mode owner sum; do
    have_mode[$path]=$mode
    have_owner[$path]=$owner
    have_sum[$path]=$sum
  done < <(tree_listing "$(at "$dest")")
  while IFS=$'\t' read -r path mode owner sum; do
    seen[$path]=1
    wanted=644
    [ $((8#$mode & 8#111)) -ne 0 ] && wanted=755
    if [ "${have_sum[$path]:-}" = "$sum" ] && [ "${have_mode[$path]}" = "$wanted" ] \
      && { [ "$live" -eq 0 ] || [ "${have_owner[$path]}" = root:root ]; }; then
      continue
    fi
    put_file "$source/$path" "$dest/$path" "$wanted"
  done < <(tree_listing "$source")
  while IFS= read -r path; do
    [ -z "$path" ] || [ -n "${seen[$path]:-}" ] && continue
    did "remove $dest/$path"
    run rm -f "$(at "$dest/$path")"
  done < <(printf '%s\n' "${!have_sum[@]}" | LC_ALL=C sort)
  if [ "$dry_run" -eq 0 ] && [ -d "$(at "$dest")" ]; then
    find "$(at "$dest")" -mindepth 1 -type d -empty ! -name __pycache__ -delete
  fi
}

put_symlink() {
  local target=$1 link
  link=$(at "$2")
  [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ] && return 0
  did "link $2 -> $target"
  [ "$dry_run" -eq 1 ] && return 0
  mkdir -p "$(dirname "$link")"
  ln -sfn "$target" "$link"
}

random_token() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# --- steps --------------------------------------------------------------------------------------

pick_python() {
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

install_packages() {
  step "Debian packages"
  local wanted=(postgresql nginx openssl ca-certificates util-linux python3-venv) missing=() pkg
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    wanted+=(python3.11 python3.11-venv)
  fi
  if [ "$live" -eq 0 ]; then
    skipped "apt-get install ${wanted[*]} (when missing)"
    return 0
  fi
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    note "all present: ${wanted[*]}"
    return 0
  fi
  did "apt-get install ${missing[*]}"
  [ "$dry_run" -eq 1 ] && return 0
  if [ "$offline" -eq 0 ]; then
    apt-get update -q
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || die "could not install ${missing[*]}; offline, add the installation media or a local mirror as an apt source first"
}

create_user() {
  step "system user $service_user"
  if [ "$live" -eq 0 ]; then
    skipped "useradd --system $service_user; usermod -a -G $service_user $nginx_user"
    return 0
  fi
  if ! getent passwd "$service_user" >/dev/null; then
    did "create system user $service_user"
    run useradd --system --user-group --home-dir "$app_home" --no-create-home \
      --shell /usr/sbin/nologin --comment "ATUM DESK" "$service_user"
  fi
  # nginx reads the socket and (X-Accel-Redirect) the uploads through the service's group.
  if getent passwd "$nginx_user" >/dev/null \
    && ! id -nG "$nginx_user" | tr ' ' '\n' | grep -qx "$service_user"; then
    did "add $nginx_user to group $service_user"
    run usermod -a -G "$service_user" "$nginx_user"
  fi
}

create_dirs() {
  step "directories"
  local data_owner="$service_user:$service_user"
  ensure_dir "$app_home" 755
  ensure_dir "$app_home/app" 755
  ensure_dir "$app_home/data" 750 "$data_owner"
  ensure_dir "$app_home/data/uploads" 750 "$data_owner"
  ensure_dir "$etc_dir" 700
  ensure_dir "$etc_dir/tls" 700
  ensure_dir "$backup_dir" 700 "$data_owner"
  # Uploads stored before downloads went through nginx were private to the service user.
  if [ "$live" -eq 1 ] && [ -d "$app_home/data/uploads" ] \
    && [ -n "$(find "$app_home/data/uploads" \( -type f ! -perm -g=r \) -o \( -type d ! -perm -g=rx \) | head -1)" ]; then
    did "make the stored uploads readable by the $service_user group"
    run chmod -R g+rX,o-rwx "$app_home/data/uploads"
  fi
}

copy_app() {
  step "application files in $app_home/app"
  local part
  for part in "${app_parts[@]}"; do
    [ -e "$src/$part" ] || die "$src/$part is missing: run install.sh from a checkout or a bundle"
    if [ -d "$src/$part" ]; then
      sync_tree "$src/$part" "$app_home/app/$part"
    else
      put_file "$src/$part" "$app_home/app/$part" 0644
    fi
  done
}

web_ui() {
  step "web UI"
  local dist="$src/web/dist"
  if [ ! -f "$dist/index.html" ] && [ "$offline" -eq 0 ] && [ "$live" -eq 1 ] \
    && [ -f "$src/web/package.json" ] && command -v npm >/dev/null 2>&1; then
    did "build the web UI (npm ci && npm run build in $src/web)"
    run npm --prefix "$src/web" ci --no-audit --no-fund
    run npm --prefix "$src/web" run build
  fi
  if [ -f "$dist/index.html" ]; then
    sync_tree "$dist" "$app_home/app/web/dist"
    return 0
  fi
  note "no built web UI in $dist (build it with 'make bundle' or 'npm --prefix web ci && npm --prefix web run build')"
  if [ ! -f "$(at "$app_home/app/web/dist/index.html")" ]; then
    put_text "$app_home/app/web/dist/index.html" 0644 <<'HTML'
<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ATUM DESK</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="background:#070B1A;color:#EEF1FA;font-family:system-ui,sans-serif;padding:3rem">
<h1>ATUM DESK</h1><p>The API is running; the web interface has not been installed yet.</p></body></html>
HTML
  fi
}

python_env() {
  step "Python environment in $app_home/venv"
  local python venv requirements stamp wanted_stamp
  python=$(pick_python) || die "Python 3.11 or newer is required (apt-get install python3.11 python3.11-venv)"
  venv=$(at "$app_home/venv")
  requirements="$src/api/requirements.txt"
  wanted_stamp="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])') $(sha256sum "$requirements" | cut -d' ' -f1)"
  stamp="$venv/.atum-requirements"
  if [ ! -x "$venv/bin/python" ]; then
    did "create the virtual environment ($python)"
    if [ "$offline" -eq 0 ] && command -v uv >/dev/null 2>&1; then
      run uv venv --quiet --python "$python" "$venv"
    else
      run "$python" -m venv "$venv"
    fi
  fi
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted_stamp" ]; then
    note "packages up to date"
  else
    if [ "$offline" -eq 1 ]; then
      did "install the packages of api/requirements.txt from $bundle/wheels (no network)"
      run "$venv/bin/pip" install --quiet --no-index --find-links "$bundle/wheels" \
        --disable-pip-version-check --require-virtualenv --no-deps -r "$requirements"
    elif command -v uv >/dev/null 2>&1; then
      did "install the packages of api/requirements.txt (uv)"
      run uv pip install --quiet --python "$venv/bin/python" --compile-bytecode --no-deps -r "$requirements"
    else
      did "install the packages of api/requirements.txt (pip)"
      run "$venv/bin/pip" install --quiet --disable-pip-version-check --require-virtualenv \
        --no-deps -r "$requirements"
    fi
    if [ "$dry_run" -eq 0 ]; then
      printf '%s\n' "$wanted_stamp" >"$stamp"
    fi
  fi
  if [ "$dry_run" -eq 0 ]; then
    # The service cannot write next to its code (ProtectSystem=strict): compile it once here.
    "$venv/bin/python" -m compileall -q "$(at "$app_home/app/api/app")" "$(at "$app_home/app/api/migrations")" >/dev/null
  fi
}

env_file_text() {
  local url=$1 workers
  workers=$(($(nproc 2>/dev/null || echo 1) * 2))
  [ "$workers" -gt 8 ] && workers=8
  [ "$workers" -lt 2 ] && workers=2
  cat <<EOF
# ATUM DESK settings, read by systemd for atum-desk-api, -worker and -lmtp and by
# /usr/local/bin/atum-desk. KEY=VALUE per line; quote values with spaces ("...").
# After a change: systemctl restart atum-desk.target (and re-run install.sh for the
# ATUM_PUBLIC_URL / ATUM_MAX_UPLOAD_MB / ATUM_NGINX_* / ATUM_TLS_* values nginx uses).
ATUM_ENV=production
ATUM_SECRET_KEY=$(random_token 32)
ATUM_DATABASE_URL=postgresql://$db_app:$(random_token 24)@127.0.0.1:5432/$db_name
ATUM_DATA_DIR=$app_home/data
ATUM_PUBLIC_URL=$url
ATUM_MAX_UPLOAD_MB=25
ATUM_ACCEL_REDIRECT_PREFIX=/_atum_uploads
ATUM_API_WORKERS=$workers
ATUM_LOG_FORMAT=json
ATUM_DOCS_ENABLED=false
# Outgoing mail (the worker delivers the outbox):
#ATUM_SMTP_HOST=smtp.example.com
#ATUM_SMTP_PORT=587
#ATUM_SMTP_STARTTLS=true
#ATUM_SMTP_USERNAME=desk@example.com
#ATUM_SMTP_PASSWORD=
#ATUM_MAIL_FROM="ATUM DESK <support@example.com>"
# Incoming mail (docs/EMAIL.md): Postfix delivers to the LMTP listener; replies are matched by
# the signed token in support+<token>@ATUM_MAIL_DOMAIN.
#ATUM_MAIL_DOMAIN=example.com
#ATUM_INBOUND_ADDRESS=support@example.com
#ATUM_LMTP_HOST=127.0.0.1
#ATUM_LMTP_PORT=8024
EOF
}

config_files() {
  step "configuration in $etc_dir"
  local env_path owner_path url
  env_path=$(at "$etc_dir/atum-desk.env")
  owner_path=$(at "$etc_dir/owner.env")
  if [ -f "$env_path" ]; then
    note "$etc_dir/atum-desk.env kept (never overwritten)"
    if [ -n "$public_url" ] && [ "$(env_file_value "$env_path" ATUM_PUBLIC_URL)" != "${public_url%/}" ]; then
      note "warning: --public-url differs from ATUM_PUBLIC_URL in the env file; edit the file to change it"
    fi
    env_source=$env_path
  else
    url=${public_url:-https://$(hostname -f 2>/dev/null || hostname)}
    env_source="$tmp/atum-desk.env"
    env_file_text "${url%/}" >"$env_source"
    put_file "$env_source" "$etc_dir/atum-desk.env" 0600
    [ "$dry_run" -eq 1 ] || note "generated a secret key and a database password"
  fi
  if [ -f "$owner_path" ]; then
    note "$etc_dir/owner.env kept"
  else
    put_text "$etc_dir/owner.env" 0600 <<EOF
# The database owner's connection: migrations, grant-app-role, backup and restore only.
# Never given to the API or the worker.
ATUM_DATABASE_URL=postgresql://$db_owner:$(random_token 24)@127.0.0.1:5432/$db_name
EOF
  fi
}

tls_certificate() {
  step "TLS certificate"
  local cert key name san
  cert=$(env_file_value "$env_source" ATUM_TLS_CERT || echo "$etc_dir/tls/fullchain.pem")
  key=$(env_file_value "$env_source" ATUM_TLS_KEY || echo "$etc_dir/tls/privkey.pem")
  if [ -n "$tls_cert_in" ]; then
    put_file "$tls_cert_in" "$cert" 0644
    put_file "$tls_key_in" "$key" 0600
    return 0
  fi
  if [ -f "$(at "$cert")" ] && [ -f "$(at "$key")" ]; then
    note "$cert kept"
    return 0
  fi
  name=$(env_file_value "$env_source" ATUM_PUBLIC_URL)
  name=${name#https://}
  name=${name%%/*}
  name=${name%:*}
  if [[ $name =~ ^[0-9.]+$ ]]; then san="IP:$name"; else san="DNS:$name"; fi
  did "create a self-signed certificate for $name (replace it with a real one, see the runbook)"
  [ "$dry_run" -eq 1 ] && return 0
  mkdir -p "$(dirname "$(at "$cert")")" "$(dirname "$(at "$key")")"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -subj "/CN=$name" -addext "subjectAltName=$san" \
    -keyout "$(at "$key")" -out "$(at "$cert")" 2>/dev/null
  chmod 600 "$(at "$key")"
  chmod 644 "$(at "$cert")"
}

nginx_site() {
  step "nginx site"
  "$here/render-nginx.sh" "$env_source" "$src/infra/nginx/atum-desk.conf" >"$tmp/atum-desk.conf"
  local before=$changed
  put_file "$tmp/atum-desk.conf" /etc/nginx/sites-available/atum-desk.conf 0644
  put_symlink /etc/nginx/sites-available/atum-desk.conf /etc/nginx/sites-enabled/atum-desk.conf
  if [ -L "$(at /etc/nginx/sites-enabled/default)" ]; then
    did "disable nginx's default site (it would answer instead of ATUM DESK)"
    run rm -f "$(at /etc/nginx/sites-enabled/default)"
  fi
  if [ "$live" -eq 0 ]; then
    skipped "nginx -t && systemctl reload nginx"
  elif [ "$changed" -ne "$before" ]; then
    run nginx -t -q
    run systemctl enable --now nginx
    run systemctl reload nginx
  fi
}

systemd_units() {
  step "systemd units"
  local unit before=$changed
  for unit in "${units[@]}"; do
    put_file "$src/infra/systemd/$unit" "/etc/systemd/system/$unit" 0644
  done
  put_file "$src/infra/scripts/atum-desk.sh" /usr/local/bin/atum-desk 0755
  if [ "$live" -eq 0 ]; then
    skipped "systemctl daemon-reload; systemctl enable atum-desk.target"
    return 0
  fi
  [ "$changed" -ne "$before" ] && run systemctl daemon-reload
  if ! systemctl is-enabled --quiet atum-desk.target 2>/dev/null; then
    did "enable atum-desk.target (starts at boot)"
    run systemctl enable --quiet atum-desk.target
  fi
}

# local_cluster PORT: "VERSION CLUSTER DATA_DIRECTORY" of the local cluster on PORT (Debian's
# pg_lsclusters); fails when there is none.
local_cluster() {
  local port=$1 version cluster cluster_port _status _owner data _log
  command -v pg_lsclusters >/dev/null 2>&1 || return 1
  while read -r version cluster cluster_port _status _owner data _log; do
    if [ "$cluster_port" = "$port" ]; then
      printf '%s %s %s\n' "$version" "$cluster" "$data"
      return 0
    fi
  done < <(pg_lsclusters --no-header 2>/dev/null)
  return 1
}

# PostgreSQL sized for this host (RAM, CPUs, SSD or not, the API's connections): a conf.d file
# from `atum-desk pg-tune` (app/pgconf.py, the rules the embedded server uses too); the server is
# restarted when the file changes. Operators override it in a file read after it (RUNBOOK).
postgresql_settings() {
  step "PostgreSQL settings"
  local url re='^postgresql://[^@/]+@([^:/]+)(:([0-9]+))?/' host port found version cluster data
  local conf python workers pool disk args=() before=$changed
  url=$(env_file_value "$env_source" ATUM_DATABASE_URL || true)
  if [[ ! $url =~ $re ]]; then
    note "ATUM_DATABASE_URL is not postgresql://USER:PASSWORD@HOST[:PORT]/DB: settings left alone"
    return 0
  fi
  host=${BASH_REMATCH[1]}
  port=${BASH_REMATCH[3]:-5432}
  if [ "$host" != 127.0.0.1 ] && [ "$host" != localhost ] && [ "$host" != ::1 ]; then
    note "database on $host: size that server there (atum-desk pg-tune, see docs/RUNBOOK.md)"
    return 0
  fi
  if ! found=$(local_cluster "$port"); then
    note "no local PostgreSQL cluster on port $port (pg_lsclusters): settings not written"
    return 0
  fi
  read -r version cluster data <<<"$found"
  conf="/etc/postgresql/$version/$cluster/conf.d/atum-desk.conf"
  python=$(at "$app_home/venv/bin/python")
  if [ ! -x "$python" ]; then
    did "write $conf (sized for this host)"
    return 0
  fi
  workers=$(env_file_value "$env_source" ATUM_API_WORKERS || echo 2)
  args=(--data-dir "$data" --api-workers "$workers")
  pool=$(env_file_value "$env_source" ATUM_DB_POOL_SIZE || true)
  [ -n "$pool" ] && args+=(--pool-size "$pool")
  disk=$(env_file_value "$env_source" ATUM_PG_DISK || true)
  [ -n "$disk" ] && args+=(--disk "$disk")
  (cd / && PYTHONPATH="$(at "$app_home/app/api")" PYTHONDONTWRITEBYTECODE=1 \
    "$python" -P -m app.pgconf "${args[@]}") >"$tmp/atum-desk-pg.conf" \
    || die "atum-desk pg-tune failed"
  put_file "$tmp/atum-desk-pg.conf" "$conf" 0644
  [ "$changed" -eq "$before" ] && return 0
  if [ "$live" -eq 0 ]; then
    skipped "systemctl restart postgresql@$version-$cluster"
  else
    # shared_buffers and max_connections take a restart; the services reconnect afterwards.
    run systemctl restart "postgresql@$version-$cluster"
  fi
}

database() {
  step "PostgreSQL database"
  local app_url owner_url re='^postgresql://([^:@/]+):([^@/]+)@([^:/]+)(:([0-9]+))?/([A-Za-z0-9_]+)$'
  if [ "$live" -eq 0 ]; then
    skipped "create roles $db_owner and $db_app and database $db_name; atum-desk migrate; atum-desk grant-app-role $db_app"
    return 0
  fi
  app_url=$(env_file_value "$env_source" ATUM_DATABASE_URL)
  owner_url=$(env_file_value "$(at "$etc_dir/owner.env")" ATUM_DATABASE_URL 2>/dev/null || true)
  if [ "$dry_run" -eq 1 ] && [ -z "$owner_url" ]; then
    did "create roles $db_owner and $db_app and database $db_name when missing"
    did "run atum-desk migrate and atum-desk grant-app-role $db_app"
    return 0
  fi
  [[ $app_url =~ $re ]] || die "ATUM_DATABASE_URL is not postgresql://USER:PASSWORD@HOST[:PORT]/DB"
  local app_role=${BASH_REMATCH[1]} app_password=${BASH_REMATCH[2]} host=${BASH_REMATCH[3]}
  [[ $owner_url =~ $re ]] || die "owner.env: ATUM_DATABASE_URL is not postgresql://USER:PASSWORD@HOST[:PORT]/DB"
  local owner_role=${BASH_REMATCH[1]} owner_password=${BASH_REMATCH[2]} name=${BASH_REMATCH[6]}
  if [ "$host" = 127.0.0.1 ] || [ "$host" = localhost ] || [ "$host" = ::1 ]; then
    if [ "$dry_run" -eq 0 ]; then
      systemctl enable --now --quiet postgresql
      local tries=0
      until runuser -u postgres -- pg_isready -q; do
        tries=$((tries + 1))
        [ "$tries" -lt 30 ] || die "PostgreSQL does not answer (journalctl -u postgresql)"
        sleep 1
      done
    fi
    local dry=() line report
    [ "$dry_run" -eq 1 ] && dry=(--dry-run)
    # The installed copy: the postgres user may not be able to read the checkout.
    report=$(cd / && runuser -u postgres -- env ATUM_DB_NAME="$name" ATUM_DB_OWNER="$owner_role" \
      ATUM_DB_OWNER_PASSWORD="$owner_password" ATUM_DB_APP_ROLE="$app_role" \
      ATUM_DB_APP_PASSWORD="$app_password" "$app_home/app/infra/scripts/provision-db.sh" "${dry[@]}")
    while IFS= read -r line; do
      [ -n "$line" ] && did "${line#would }"
    done <<<"$report"
  else
    note "database on $host: create the roles and the database there (see docs/RUNBOOK.md)"
  fi
  [ "$dry_run" -eq 1 ] && { did "run atum-desk migrate and atum-desk grant-app-role $app_role"; return 0; }
  if systemctl is-active --quiet atum-desk-api.service && [ "$restart" -eq 1 ]; then
    did "stop atum-desk.target for the upgrade"
    systemctl stop atum-desk.target
  fi
  (cd / && /usr/local/bin/atum-desk migrate)
  (cd / && /usr/local/bin/atum-desk grant-app-role "$app_role" >/dev/null)
}

api_ready() {
  "$app_home/venv/bin/python" - 2>/dev/null <<'PY'
import http.client, socket, sys
class Unix(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(5)
        self.sock.connect("/run/atum-desk/api.sock")
c = Unix("localhost")
c.request("GET", "/api/health/ready")
sys.exit(c.getresponse().status != 200)
PY
}

services() {
  step "services"
  if [ "$live" -eq 0 ]; then
    skipped "systemctl start atum-desk.target"
    return 0
  fi
  if [ "$start" -eq 0 ]; then
    note "not started (--no-start): systemctl start atum-desk.target"
    return 0
  fi
  if systemctl is-active --quiet atum-desk-api.service && [ "$restart" -eq 1 ]; then
    did "restart atum-desk.target"
    run systemctl restart atum-desk.target
  else
    run systemctl start atum-desk.target
  fi
  [ "$dry_run" -eq 1 ] && return 0
  local tries=0
  until api_ready; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || die "the API is not ready: systemctl status atum-desk-api; journalctl -u atum-desk-api"
    sleep 1
  done
  note "the API answers /api/health/ready"
}

# --- main ---------------------------------------------------------------------------------------

[ "$dry_run" -eq 1 ] && echo "Dry run: nothing will be changed."
[ -n "$prefix" ] && echo "Installing under $prefix (files only)."
if [ "$live" -eq 1 ] && [ -r /etc/os-release ]; then
  # shellcheck source=/dev/null
  os_id=$(. /etc/os-release && echo "${ID:-} ${ID_LIKE:-}")
  [[ $os_id == *debian* || $os_id == *ubuntu* ]] || echo "warning: made for Debian/Ubuntu, found: $os_id" >&2
fi
if [ -n "$prefix" ] && [ "$dry_run" -eq 0 ]; then
  mkdir -p "$prefix"
fi

# Changes to these steps need the services restarted; the others do not.
restart=0
affects_services() {
  local before=$changed
  "$@"
  [ "$changed" -eq "$before" ] || restart=1
}

install_packages
create_user
create_dirs
affects_services copy_app
web_ui
affects_services python_env
affects_services config_files
tls_certificate
nginx_site
affects_services systemd_units
affects_services postgresql_settings
database
services

url=$(env_file_value "$env_source" ATUM_PUBLIC_URL)
echo
if [ "$changed" -eq 0 ]; then
  echo "Nothing changed: the installation is up to date."
elif [ "$dry_run" -eq 1 ]; then
  echo "Dry run finished: the lines above are what a real run would do."
fi
if [ "$live" -eq 1 ] && [ "$dry_run" -eq 0 ]; then
  cat <<EOF
ATUM DESK is installed: $url
Next, create the first administrator:
  printf '%s\n' 'a long passphrase' | sudo atum-desk create-user --email you@example.com \\
      --name "Your Name" --role admin --password-stdin
Start/stop: systemctl start|stop atum-desk.target   Logs: journalctl -u 'atum-desk-*'
EOF
fi
