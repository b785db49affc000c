#!/usr/bin/env bash
# Render infra/nginx/atum-desk.conf for this host and print it.
#
#   render-nginx.sh ENV_FILE [TEMPLATE] > /etc/nginx/sites-available/atum-desk.conf
#
# Every value comes from ENV_FILE (the app's /etc/atum-desk/atum-desk.env); the defaults are the
# paths of a standard install:
#   ATUM_PUBLIC_URL             https://<name>[:port]   redirect target; its host is server_name
#   ATUM_MAX_UPLOAD_MB          25                      client_max_body_size of /api (+64 KiB)
#   ATUM_DATA_DIR               /opt/atum-desk/data     the uploads are under its uploads/
#   ATUM_ACCEL_REDIRECT_PREFIX  /_atum_uploads          internal location of the uploads
#   ATUM_NGINX_HTTP_LISTEN      80
#   ATUM_NGINX_HTTPS_LISTEN     443
#   ATUM_NGINX_LOG_DIR          /var/log/nginx
#   ATUM_TLS_CERT               /etc/atum-desk/tls/fullchain.pem
#   ATUM_TLS_KEY                /etc/atum-desk/tls/privkey.pem
#   ATUM_WEB_ROOT               /opt/atum-desk/app/web/dist
#   ATUM_API_SOCKET             /run/atum-desk/api.sock
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

die() {
  echo "render-nginx: $*" >&2
  exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  die "usage: render-nginx.sh ENV_FILE [TEMPLATE]"
fi
env_file=$1
template=${2:-$here/../nginx/atum-desk.conf}
[ -r "$env_file" ] || die "cannot read $env_file"
[ -r "$template" ] || die "cannot read $template"

setting() {
  env_file_value "$env_file" "$1" || printf '%s\n' "$2"
}

# Values end up inside nginx directives: allow nothing that could end or extend one.
path_value() {
  local name=$1 value=$2
  [[ $value =~ ^/[A-Za-z0-9._/+-]*$ ]] || die "$name must be an absolute path without spaces or quotes: '$value'"
  printf '%s\n' "${value%/}"
}
listen_value() {
  local name=$1 value=$2
  [[ $value =~ ^([0-9.]+:|\[[0-9A-Fa-f:]+\]:)?[0-9]{1,5}$ ]] || die "$name must be PORT, ADDRESS:PORT or [IPV6]:PORT: '$value'"
  printf '%s\n' "$value"
}

public_url=$(setting ATUM_PUBLIC_URL "")
public_url=${public_url%/}
[[ $public_url =~ ^https://(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$ ]] \
  || die "ATUM_PUBLIC_URL must be https://HOST or https://HOST:PORT (no path): '$public_url'"
server_name=${BASH_REMATCH[1]}
server_name=${server_name#[}
server_name=${server_name%]}

max_upload_mb=$(setting ATUM_MAX_UPLOAD_MB 25)
[[ $max_upload_mb =~ ^[1-9][0-9]{0,4}$ ]] || die "ATUM_MAX_UPLOAD_MB must be a whole number: '$max_upload_mb'"
# The API accepts the file plus 64 KiB of multipart framing; nginx refuses the same bodies.
client_max_body_size="$((max_upload_mb * 1024 + 64))k"

data_dir=$(path_value ATUM_DATA_DIR "$(setting ATUM_DATA_DIR /opt/atum-desk/data)")
accel_prefix=$(path_value ATUM_ACCEL_REDIRECT_PREFIX "$(setting ATUM_ACCEL_REDIRECT_PREFIX /_atum_uploads)")
case "$accel_prefix" in
  "" | /api | /api/* | /assets | /assets/*)
    die "ATUM_ACCEL_REDIRECT_PREFIX must be a path of its own, e.g. /_atum_uploads" ;;
esac
http_listen=$(listen_value ATUM_NGINX_HTTP_LISTEN "$(setting ATUM_NGINX_HTTP_LISTEN 80)")
https_listen=$(listen_value ATUM_NGINX_HTTPS_LISTEN "$(setting ATUM_NGINX_HTTPS_LISTEN 443)")
log_dir=$(path_value ATUM_NGINX_LOG_DIR "$(setting ATUM_NGINX_LOG_DIR /var/log/nginx)")
tls_cert=$(path_value ATUM_TLS_CERT "$(setting ATUM_TLS_CERT /etc/atum-desk/tls/fullchain.pem)")
tls_key=$(path_value ATUM_TLS_KEY "$(setting ATUM_TLS_KEY /etc/atum-desk/tls/privkey.pem)")
web_root=$(path_value ATUM_WEB_ROOT "$(setting ATUM_WEB_ROOT /opt/atum-desk/app/web/dist)")
api_socket=$(path_value ATUM_API_SOCKET "$(setting ATUM_API_SOCKET /run/atum-desk/api.sock)")

rendered=$(sed \
  -e "s|@PUBLIC_URL@|$public_url|g" \
  -e "s|@SERVER_NAME@|$server_name|g" \
  -e "s|@HTTP_LISTEN@|$http_listen|g" \
  -e "s|@HTTPS_LISTEN@|$https_listen|g" \
  -e "s|@CLIENT_MAX_BODY_SIZE@|$client_max_body_size|g" \
  -e "s|@MAX_UPLOAD_MB@|$max_upload_mb|g" \
  -e "s|@UPLOAD_DIR@|$data_dir/uploads|g" \
  -e "s|@ACCEL_PREFIX@|$accel_prefix|g" \
  -e "s|@LOG_DIR@|$log_dir|g" \
  -e "s|@TLS_CERT@|$tls_cert|g" \
  -e "s|@TLS_KEY@|$tls_key|g" \
  -e "s|@WEB_ROOT@|$web_root|g" \
  -e "s|@API_SOCKET@|$api_socket|g" \
  "$template")
if grep -q '@[A-Z][A-Z_]*@' <<<"$rendered"; then
  die "unfilled placeholder in $template: $(grep -o '@[A-Z][A-Z_]*@' <<<"$rendered" | head -1)"
fi
printf '%s\n' "$rendered"
