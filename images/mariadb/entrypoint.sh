#!/bin/bash
# Entrypoint of fjord's local MariaDB image. Like the official image for what fjord uses:
# MARIADB_ROOT_PASSWORD / MARIADB_DATABASE / MARIADB_USER / MARIADB_PASSWORD initialise an empty
# datadir once, and /etc/mysql/conf.d/*.cnf (fjord's rendered fjord.cnf) is read at start.
set -euo pipefail

if [ "${1#-}" != "$1" ]; then set -- mariadbd "$@"; fi

# Single quotes and backslashes escaped for an SQL string literal.
sql_str() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\\\'}"; }

if [ "$1" = mariadbd ] && [ ! -d /var/lib/mysql/mysql ]; then
  if [ -z "${MARIADB_ROOT_PASSWORD:-}" ]; then
    echo "fjord mariadb: MARIADB_ROOT_PASSWORD is not set; refusing to create a server without one" >&2
    exit 1
  fi
  mariadb-install-db --datadir=/var/lib/mysql --skip-test-db --auth-root-authentication-method=normal \
    >/dev/null
  sock=/run/mysqld/init.sock
  # No network while initialising, so nobody connects before the passwords are set.
  mariadbd --skip-networking --socket="$sock" --datadir=/var/lib/mysql &
  pid=$!
  for _ in $(seq 1 60); do
    mariadb-admin --socket="$sock" -uroot ping --silent 2>/dev/null && break
    sleep 1
  done
  root=$(sql_str "$MARIADB_ROOT_PASSWORD")
  {
    echo "DROP USER IF EXISTS ''@'localhost', ''@'%';"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $root;"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY $root;"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "${MARIADB_DATABASE:-}" ]; then
      echo "CREATE DATABASE IF NOT EXISTS \`${MARIADB_DATABASE}\`;"
    fi
    if [ -n "${MARIADB_USER:-}" ] && [ -n "${MARIADB_PASSWORD:-}" ]; then
      echo "CREATE USER '${MARIADB_USER}'@'%' IDENTIFIED BY $(sql_str "$MARIADB_PASSWORD");"
      [ -n "${MARIADB_DATABASE:-}" ] && echo "GRANT ALL ON \`${MARIADB_DATABASE}\`.* TO '${MARIADB_USER}'@'%';"
    fi
    echo "FLUSH PRIVILEGES;"
  } | mariadb --socket="$sock" -uroot
  MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb-admin --socket="$sock" -uroot shutdown
  wait "$pid" || true
  echo "fjord mariadb: initialised /var/lib/mysql (database ${MARIADB_DATABASE:-none}, user ${MARIADB_USER:-none})" >&2
fi
exec "$@"
