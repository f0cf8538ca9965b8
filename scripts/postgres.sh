#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests (a fleet store to record into).
#
#   scripts/postgres.sh start DIR   initdb into DIR, start on 127.0.0.1 at a free port with TLS
#                                   (a self-signed certificate) and a random password; prints
#                                   the URL (DIR's parents must be searchable by `postgres`)
#   scripts/postgres.sh stop DIR    stop it (DIR can then be removed)
#
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user. Debian's
# `postgresql` package is installed when missing (as root).
set -euo pipefail
action=$1
dir=$2

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bin=$(find_bin)
case $action in
start)
  if [[ -z $bin ]]; then
    [[ $(id -u) -eq 0 ]] || { echo "PostgreSQL is missing: apt-get install postgresql (as root)" >&2; exit 1; }
    apt-get -qq update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(find_bin)
  fi
  mkdir -p "$dir"
  password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$password" >"$dir/password"
  [[ $(id -u) -ne 0 ]] || chown -R postgres "$dir"
  as_postgres "$bin/initdb" -D "$dir/data" -U ftbench --auth=scram-sha-256 \
    --pwfile="$dir/password" >"$dir/initdb.log"
  openssl req -new -x509 -days 2 -nodes -subj /CN=127.0.0.1 \
    -keyout "$dir/data/server.key" -out "$dir/data/server.crt" 2>/dev/null
  chmod 600 "$dir/data/server.key"
  [[ $(id -u) -ne 0 ]] || chown postgres "$dir/data/server.key" "$dir/data/server.crt"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
    "-p $port -k $dir -c listen_addresses=127.0.0.1 -c ssl=on -c fsync=off -c max_connections=200" \
    start >/dev/null
  echo "postgresql://ftbench:$password@127.0.0.1:$port/postgres"
  ;;
stop)
  as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
