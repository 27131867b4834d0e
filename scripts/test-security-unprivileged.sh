#!/usr/bin/env bash
# Runs the security suite (or the given test files) as an unprivileged user, so the server is tested the
# way docs/operations.md recommends running it: not root. Needs root to set up: creates the user
# `concierge-ci` when missing and delegates it a cgroup (v1: memory, pids, cpu; v2: one subtree) so the
# sandbox limits still apply. Usage: bash scripts/test-security-unprivileged.sh [test files...]
set -euo pipefail
cd "$(dirname "$0")/.."
user=concierge-ci
if [ "$(id -u)" != 0 ]; then
  echo "test-security-unprivileged: must start as root (it creates $user and its cgroup)" >&2
  exit 1
fi
id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
if ! su -s /bin/sh "$user" -c "test -r '$PWD/package.json' && test -x '$PWD/node_modules/.bin/vitest'"; then
  echo "test-security-unprivileged: $user cannot read $PWD and its node_modules" >&2
  exit 1
fi

# Delegate a cgroup the user owns and start the tests inside it, as a systemd Delegate=yes unit would.
group="concierge-ci-$$"
joins=""
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  dir="/sys/fs/cgroup/$group"
  mkdir "$dir" && chown -R "$user" "$dir"
  dirs="$dir"
else
  dirs=""
  for controller in memory pids cpu; do
    own=$(awk -F: -v c="$controller" '{ n = split($2, list, ","); for (i = 1; i <= n; i++) if (list[i] == c) print $3 }' /proc/self/cgroup)
    dir="/sys/fs/cgroup/$controller${own%/}/$group"
    [ -d "/sys/fs/cgroup/$controller" ] || continue
    mkdir "$dir" && chown -R "$user" "$dir" && dirs="$dirs $dir"
  done
fi
cleanup() {
  for dir in $dirs; do
    # Tests are over: whatever is left in the group goes, then the group.
    for _ in 1 2 3 4 5; do
      [ -d "$dir" ] || break
      find "$dir" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
      rmdir "$dir" 2>/dev/null && break
      sleep 0.2
    done
  done
}
trap cleanup EXIT
for dir in $dirs; do joins="$joins echo \$\$ > $dir/cgroup.procs;"; done

files=("$@")
[ ${#files[@]} -gt 0 ] || files=(test/security)
echo "test-security-unprivileged: running ${files[*]} as $user (uid $(id -u "$user"))"
su -s /bin/bash "$user" -c "$joins cd '$PWD' && HOME=/tmp CONCIERGE_TEST_DATABASE_URL='${CONCIERGE_TEST_DATABASE_URL:-}' NODE_OPTIONS=--import=tsx exec node_modules/.bin/vitest run --configLoader native --config test/vitest.config.ts ${files[*]}"
