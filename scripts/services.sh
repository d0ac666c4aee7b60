#!/usr/bin/env bash
# Makes sure what the test suite needs is on this machine and running: Chromium for the browser
# tests, Redis and PostgreSQL for the scale-out tests. Idempotent; prints what it did.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq >/dev/null; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The browser tests drive Debian's Chromium (never a browser build downloaded by Playwright).
if [ ! -x /usr/bin/chromium ]; then echo "installing chromium"; apt_install chromium; fi

# The deployment test runs docs/deploy/nginx.conf in front of two processes.
if [ ! -x /usr/sbin/nginx ]; then echo "installing nginx"; apt_install nginx-light || apt_install nginx; fi

if ! have redis-server; then echo "installing redis-server"; apt_install redis-server; fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting redis on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

if ! have pg_ctlcluster; then echo "installing postgresql"; apt_install postgresql; fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "starting postgresql"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
