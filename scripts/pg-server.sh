#!/usr/bin/env bash
# Starts or stops a throw-away PostgreSQL cluster for tests and benchmarks.
#   scripts/pg-server.sh start DIR PORT   -> prints postgres://postgres@127.0.0.1:PORT/postgres
#   scripts/pg-server.sh stop DIR
# PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?data directory}
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    port=${3:?port}
    command -v initdb >/dev/null || { echo "initdb not found: install PostgreSQL (apt-get install postgresql)" >&2; exit 1; }
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_owner initdb -D "$dir" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 \
        || { cat "$dir.initdb.log" >&2; rm -f "$dir.initdb.log"; exit 1; }
      rm -f "$dir.initdb.log"
    fi
    as_owner pg_ctl -D "$dir" -l "$dir/server.log" \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=on -c max_connections=200" -w start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_owner pg_ctl -D "$dir" -m fast -w stop >/dev/null
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
