#!/usr/bin/env bash
# `npm run demo`: installs what is needed (unless CONCIERGE_DEMO_SKIP_SETUP=1), then starts the Concierge
# API and the Northwind demo site and stops both on Ctrl+C. Ports: PORT (API, 8787), DEMO_PORT (3000).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${CONCIERGE_DEMO_SKIP_SETUP:-}" != 1 ]; then
  # The demo needs neither the test browser nor PostgreSQL; skip them unless asked for.
  CONCIERGE_SKIP_BROWSER="${CONCIERGE_SKIP_BROWSER:-1}" CONCIERGE_SKIP_POSTGRES="${CONCIERGE_SKIP_POSTGRES:-1}" bash scripts/setup.sh
fi

# node directly (not pnpm), so Ctrl+C reaches the process that stops the services.
exec node --import tsx demo/src/start-demo.ts
