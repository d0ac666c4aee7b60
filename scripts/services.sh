#!/usr/bin/env bash
# Makes sure what the test suite needs is on this machine and running: Chromium for the browser
# tests, nginx for the deployment test, Redis and PostgreSQL for the scale-out tests. Idempotent.
# It says what it is about to install, and why, before installing anything (Debian packages, with
# apt-get), and says what it starts.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

# package, then why the suite needs it; a package is listed only when it is missing.
missing=()
reasons=()
need() { missing+=("$1"); reasons+=("$2"); }

# The browser tests drive Debian's Chromium (never a browser build downloaded by Playwright).
[ -x /usr/bin/chromium ] || need chromium "the browser tests (pages, passkeys, axe-core) drive Debian's Chromium"
# The deployment test runs docs/deploy/nginx.conf in front of two processes.
[ -x /usr/sbin/nginx ] || need nginx-light "the deployment test runs docs/deploy/nginx.conf in front of two processes"
have redis-server || need redis-server "the scale-out tests share live state and fan-out through Redis"
have pg_ctlcluster || need postgresql "every server test also runs on PostgreSQL"

if [ "${#missing[@]}" -gt 0 ]; then
  echo "scripts/services.sh: installing ${#missing[@]} Debian package(s) with apt-get:"
  for i in "${!missing[@]}"; do echo "  ${missing[$i]}: ${reasons[$i]}"; done
  apt-get update -qq >/dev/null
  for pkg in "${missing[@]}"; do
    if [ "$pkg" = nginx-light ]; then
      # Debian 12 has nginx-light; later releases have only nginx.
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1 \
        || { echo "  nginx-light is not available: installing nginx instead"; \
             DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }
    else
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
    fi
    echo "  installed $pkg"
  done
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "scripts/services.sh: starting redis on 127.0.0.1:6379 (no persistence: test data only)"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "scripts/services.sh: starting postgresql on 127.0.0.1:5432"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
