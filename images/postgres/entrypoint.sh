#!/bin/sh
# Entrypoint of fjord's local postgres image. It does what the official image does for what fjord
# uses: POSTGRES_USER / POSTGRES_DB / POSTGRES_PASSWORD initialise an empty $PGDATA once, clients
# on the network authenticate with scram-sha-256, and leading `-c ...` arguments go to postgres.
set -eu

if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi

if [ "$1" = postgres ]; then
  : "${PGDATA:=/var/lib/postgresql/data}"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
      echo "fjord postgres: POSTGRES_PASSWORD is not set; refusing to create a database without one" >&2
      exit 1
    fi
    user=${POSTGRES_USER:-postgres}
    db=${POSTGRES_DB:-$user}
    mkdir -p "$PGDATA" && chmod 0700 "$PGDATA"
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb -D "$PGDATA" --username="$user" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    # The official image opens the network to password logins the same way.
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    # Listen on the socket only while initialising, so nobody connects to a half-made database.
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" start >/dev/null
    if [ "$db" != postgres ]; then
      psql -v ON_ERROR_STOP=1 -h /var/run/postgresql -U "$user" -d postgres -q \
        -c "CREATE DATABASE \"$db\""
    fi
    pg_ctl -D "$PGDATA" -w -m fast stop >/dev/null
    echo "fjord postgres: initialised $PGDATA for user $user, database $db" >&2
  fi
fi
exec "$@"
