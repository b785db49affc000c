#!/usr/bin/env bash
# Create the ATUM DESK database and its two roles when they are missing; run it as a PostgreSQL
# superuser (install.sh runs it as the postgres system user over the local socket; standard PG*
# variables select another server). Existing roles and databases are kept as they are, passwords
# included, so running it again changes nothing.
#
#   owner role  ATUM_DB_OWNER     owns the database and its schema, runs the migrations
#   app role    ATUM_DB_APP_ROLE  what the API and the worker connect as: no superuser, no
#                                 CREATE, and (after `atum-desk grant-app-role`) INSERT/SELECT
#                                 only on audit_log
#
# Required environment: ATUM_DB_NAME ATUM_DB_OWNER ATUM_DB_OWNER_PASSWORD ATUM_DB_APP_ROLE
# ATUM_DB_APP_PASSWORD. With --dry-run, prints what it would create and changes nothing.
set -euo pipefail

dry_run=0
[ "${1:-}" = "--dry-run" ] && dry_run=1
for name in ATUM_DB_NAME ATUM_DB_OWNER ATUM_DB_OWNER_PASSWORD ATUM_DB_APP_ROLE ATUM_DB_APP_PASSWORD; do
  if [ -z "${!name:-}" ]; then
    echo "provision-db: $name is not set" >&2
    exit 2
  fi
done
for name in ATUM_DB_NAME ATUM_DB_OWNER ATUM_DB_APP_ROLE; do
  if [[ ! ${!name} =~ ^[a-z_][a-z0-9_]{0,62}$ ]]; then
    echo "provision-db: $name must be a lower-case identifier: '${!name}'" >&2
    exit 2
  fi
done

psql_run() {
  psql -X --no-psqlrc --quiet -v ON_ERROR_STOP=1 \
    -v db="$ATUM_DB_NAME" -v owner="$ATUM_DB_OWNER" -v owner_password="$ATUM_DB_OWNER_PASSWORD" \
    -v app="$ATUM_DB_APP_ROLE" -v app_password="$ATUM_DB_APP_PASSWORD" -v dry_run="$dry_run" \
    "$@"
}

psql_run -d postgres <<'SQL'
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'owner') AS create_owner,
       NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app') AS create_app,
       NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') AS create_db \gset
\if :dry_run
  \if :create_owner
    \echo would create role :owner (database owner)
  \endif
  \if :create_app
    \echo would create role :app (application)
  \endif
  \if :create_db
    \echo would create database :db owned by :owner
  \endif
  \quit
\endif
\if :create_owner
  CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'owner_password';
  \echo created role :owner
\endif
\if :create_app
  CREATE ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'app_password';
  \echo created role :app
\endif
\if :create_db
  CREATE DATABASE :"db" OWNER :"owner" ENCODING 'UTF8' TEMPLATE template0;
  \echo created database :db
\endif
SQL

[ "$dry_run" -eq 1 ] && exit 0

psql_run -d "$ATUM_DB_NAME" <<'SQL'
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
