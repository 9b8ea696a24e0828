#!/usr/bin/env bash
# Stands up (or tears down) the real OCS Inventory NG communication server
# from Debian's packages on 127.0.0.1:8081 only: Apache with mod_perl under
# mpm_prefork, MariaDB with READ-COMMITTED isolation, schema from
# ocsinventory-reports' ocsbase_new.sql (GUI_VERSION 7039, which server 2.8.1
# expects). It is the anchor muster's ingest benchmark is compared with;
# see ../shared/spec/ocs-reference-server.md for why each step is there.
#
#   scripts/ocs-reference.sh up      install if needed, start, reset the DB
#   scripts/ocs-reference.sh down    stop Apache and MariaDB
#   scripts/ocs-reference.sh status  say whether it answers
#
# Needs root on Debian 12. Never listens beyond loopback: it checks.
set -euo pipefail

PORT=8081
URL="http://127.0.0.1:${PORT}/ocsinventory"
PKGS=(ocsinventory-server apache2 libapache2-mod-perl2 mariadb-server mariadb-client libxml-parser-perl)

die() { echo "ocs-reference: $*" >&2; exit 1; }
say() { echo "ocs-reference: $*" >&2; }

answers() { curl -s -o /dev/null -m 3 "$URL"; }

install() {
  local missing=()
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    # Keep the maintainer scripts from starting Apache on *:80.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
  command -v curl >/dev/null || { apt-get install -y -qq curl >/dev/null; }
}

schema() {
  local dir=/var/cache/muster-ocs-reference
  local sql
  sql=$(find "$dir" -name ocsbase_new.sql 2>/dev/null | head -1 || true)
  if [ -z "$sql" ]; then
    mkdir -p "$dir"
    (cd "$dir" && apt-get download ocsinventory-reports >/dev/null 2>&1) || die "cannot download ocsinventory-reports for its schema"
    dpkg-deb -x "$dir"/ocsinventory-reports_*.deb "$dir/x"
    sql=$(find "$dir" -name ocsbase_new.sql | head -1)
  fi
  [ -n "$sql" ] || die "ocsbase_new.sql not found in ocsinventory-reports"
  echo "$sql"
}

start_mariadb() {
  cat > /etc/mysql/mariadb.conf.d/60-ocs-loopback.cnf <<CNF
[mysqld]
bind-address = 127.0.0.1
transaction-isolation = READ-COMMITTED
CNF
  if ! mysqladmin ping >/dev/null 2>&1; then
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    (mysqld_safe >/dev/null 2>&1 &)
    for _ in $(seq 1 60); do mysqladmin ping >/dev/null 2>&1 && break; sleep 0.5; done
    mysqladmin ping >/dev/null 2>&1 || die "MariaDB did not start"
  fi
}

reset_db() {
  local sql=$1
  mysql <<SQL
DROP DATABASE IF EXISTS ocsweb;
CREATE DATABASE ocsweb CHARACTER SET utf8 COLLATE utf8_bin;
CREATE USER IF NOT EXISTS 'ocs'@'localhost' IDENTIFIED BY 'ocs';
CREATE USER IF NOT EXISTS 'ocs'@'127.0.0.1' IDENTIFIED BY 'ocs';
GRANT ALL PRIVILEGES ON ocsweb.* TO 'ocs'@'localhost';
GRANT ALL PRIVILEGES ON ocsweb.* TO 'ocs'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
  mysql ocsweb < "$sql"
}

start_apache() {
  [ -f /etc/apache2/ports.conf.orig ] || cp /etc/apache2/ports.conf /etc/apache2/ports.conf.orig
  echo "Listen 127.0.0.1:${PORT}" > /etc/apache2/ports.conf
  cat > /etc/apache2/sites-available/ocs-loopback.conf <<SITE
<VirtualHost 127.0.0.1:${PORT}>
    ServerName 127.0.0.1
    ErrorLog \${APACHE_LOG_DIR}/error.log
</VirtualHost>
SITE
  a2dissite -q 000-default >/dev/null 2>&1 || true
  a2ensite -q ocs-loopback >/dev/null
  a2dismod -q mpm_event >/dev/null 2>&1 || true
  a2enmod -q mpm_prefork >/dev/null
  a2enconf -q ocsinventory-server >/dev/null
  a2disconf -q ocsinventory-restapi >/dev/null 2>&1 || true
  mkdir -p /var/log/ocsinventory-server && chown www-data /var/log/ocsinventory-server
  if [ -f /run/apache2/apache2.pid ] && kill -0 "$(cat /run/apache2/apache2.pid)" 2>/dev/null; then
    apachectl graceful   # Apache::DBI handles lose their schema when ocsweb is recreated
  else
    apachectl start
  fi
  for _ in $(seq 1 40); do answers && break; sleep 0.25; done
  answers || die "Apache does not answer on $URL (see /var/log/apache2/error.log)"
}

check_loopback() {
  local leaks
  leaks=$(ss -ltnpH | grep -E 'apach|mariadbd|mysqld' | awk '{print $4}' | grep -vE '^(127\.0\.0\.1|\[::1\]):' || true)
  [ -z "$leaks" ] || { down; die "something listens beyond loopback: $leaks (stopped everything)"; }
}

down() {
  [ -f /run/apache2/apache2.pid ] && kill "$(cat /run/apache2/apache2.pid)" 2>/dev/null || true
  [ -f /run/mysqld/mysqld.pid ] && kill "$(cat /run/mysqld/mysqld.pid)" 2>/dev/null || true
  for _ in $(seq 1 40); do
    pgrep -x apache2 >/dev/null || pgrep -x mariadbd >/dev/null || break
    sleep 0.25
  done
  say "stopped"
}

case "${1:-}" in
  up)
    [ "$(id -u)" = 0 ] || die "needs root"
    install
    sql=$(schema)
    start_mariadb
    reset_db "$sql"
    start_apache
    check_loopback
    say "OCS server 2.8.1 answering at $URL (fresh ocsweb database)"
    ;;
  down) down ;;
  status) answers && say "answering at $URL" || { say "not answering at $URL"; exit 1; } ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
