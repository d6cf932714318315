#!/usr/bin/env bash
# Regenerates domain/.sqlx, the offline cache that lets `sqlx::query!` compile without a
# database. Run after adding or changing a query: it starts a throwaway PostgreSQL,
# applies the migrations, and rebuilds the domain crate with SQLX_OFFLINE_DIR set, which
# makes the sqlx macros record every query's types (what `cargo sqlx prepare` does).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
dir=$(mktemp -d /tmp/rapport-sqlx-XXXXXX)
chmod 755 "$dir"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

as_pg "$bin/initdb" -D "$dir/data" -U rapport --auth=trust -E UTF8 --locale=C >/dev/null
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start -w >/dev/null
trap 'as_pg "$bin/pg_ctl" -D "$dir/data" stop -m fast >/dev/null; rm -rf "$dir"' EXIT

url="postgres://rapport@127.0.0.1:$port"
psql -q "$url/postgres" -c "create database rapport"
for migration in migrations/*.sql; do
  psql -q -v ON_ERROR_STOP=1 "$url/rapport" -f "$migration" >/dev/null
done

rm -rf domain/.sqlx && mkdir -p domain/.sqlx
touch domain/src/lib.rs
SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$PWD/domain/.sqlx" DATABASE_URL="$url/rapport" \
  cargo check -q -p domain --all-targets
echo "updated domain/.sqlx ($(ls domain/.sqlx | wc -l) queries)"
