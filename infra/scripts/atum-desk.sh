#!/usr/bin/env bash
# /usr/local/bin/atum-desk on an installed host: the ATUM DESK command line with the production
# settings of /etc/atum-desk/atum-desk.env, run as the atum-desk user. The schema commands
# (migrate, grant-app-role, backup, restore) connect as the database owner (owner.env); every
# other command as the application's role. Run it as root: sudo atum-desk --help
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
etc_dir=${ATUM_ETC_DIR:-/etc/atum-desk}
home_dir=${ATUM_HOME:-/opt/atum-desk}
service_user=${ATUM_SERVICE_USER:-atum-desk}
# shellcheck source=lib.sh
. "$home_dir/app/infra/scripts/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  echo "error: run as root (sudo atum-desk ...): the settings in $etc_dir are readable by root only" >&2
  exit 2
fi
export_env_file "$etc_dir/atum-desk.env"
case "${1:-}" in
  migrate | grant-app-role | backup | restore) export_env_file "$etc_dir/owner.env" ;;
esac
export PYTHONPATH="$home_dir/app/api" PYTHONDONTWRITEBYTECODE=1
exec setpriv --reuid="$service_user" --regid="$service_user" --init-groups -- \
  "$home_dir/venv/bin/python" -P -m app.cli "$@"
