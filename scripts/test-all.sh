#!/usr/bin/env bash
# The README's test command: installs what is missing, starts a private PostgreSQL for the scale-out
# tests, then runs lint, typecheck, every package's tests, the widget size budget and the cross-package
# tests. Leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

pg_bin=/usr/lib/postgresql/15/bin
pg_dir=""
cleanup() {
  if [ -n "$pg_dir" ]; then
    su postgres -c "$pg_bin/pg_ctl -D $pg_dir/data -m immediate stop" >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
}
trap cleanup EXIT

if [ -z "${CONCIERGE_TEST_DATABASE_URL:-}" ] && [ -x "$pg_bin/initdb" ] && [ "$(id -u)" = 0 ]; then
  pg_dir=$(mktemp -d /tmp/concierge-pg.XXXXXX)
  chmod 755 "$pg_dir"
  chown postgres "$pg_dir"
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  su postgres -c "$pg_bin/initdb -D $pg_dir/data -U postgres --auth=trust" >/dev/null
  su postgres -c "$pg_bin/pg_ctl -D $pg_dir/data -l $pg_dir/log -w -o '-c listen_addresses=127.0.0.1 -p $port -k $pg_dir' start" >/dev/null
  export CONCIERGE_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "test-all: PostgreSQL 15 on 127.0.0.1:$port"
fi

pnpm check

# The server is meant to run as a non-root user: the security suite runs once that way too.
if [ "$(id -u)" = 0 ]; then
  bash scripts/test-security-unprivileged.sh
fi
