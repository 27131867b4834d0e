#!/usr/bin/env bash
# Installs everything Concierge needs on Debian/Ubuntu with Node >= 20.19 and npm: pnpm, bubblewrap,
# Chromium (browser tests), PostgreSQL (scale-out tests), the dependencies, and builds the widget.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=12.21.0
if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi

need=()
command -v bwrap >/dev/null || need+=(bubblewrap)
[ "${CONCIERGE_SKIP_BROWSER:-}" = 1 ] || command -v chromium >/dev/null || need+=(chromium)
[ -x /usr/lib/postgresql/15/bin/initdb ] || [ "${CONCIERGE_SKIP_POSTGRES:-}" = 1 ] || need+=(postgresql)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${need[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "setup: please install: ${need[*]} (e.g. sudo apt-get install ${need[*]})" >&2
    [[ " ${need[*]} " == *" bubblewrap "* ]] && echo "setup: without bubblewrap, run with CONCIERGE_SANDBOX=unsafe-host (no isolation)" >&2
  fi
fi

# better-sqlite3 builds from source against the installed Node headers (no download).
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
# pnpm-workspace.yaml sets pmOnFail: ignore, so pnpm neither downloads itself nor records its own
# version in the lockfile; the lockfile pins every dependency.
pnpm install --frozen-lockfile
pnpm build
