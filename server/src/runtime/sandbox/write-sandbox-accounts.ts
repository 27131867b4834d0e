import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SANDBOX_HOME, SANDBOX_UID } from './build-bwrap-args.ts';

/** Files bound over the host's /etc/passwd and /etc/group inside every sandbox. */
export interface SandboxAccounts {
  passwd: string;
  group: string;
}

/**
 * The accounts a sandboxed command sees: root, the sandbox user and nobody. The host's own files
 * would name every account of the host (and show the sandbox uid under some host user's name).
 * Written once per server into a fresh folder the sandbox's host user can read.
 */
export function writeSandboxAccounts(parent = os.tmpdir()): SandboxAccounts {
  const dir = mkdtempSync(path.join(parent, 'concierge-sandbox-etc-'));
  chmodSync(dir, 0o755);
  const passwd = path.join(dir, 'passwd');
  const group = path.join(dir, 'group');
  writeFileSync(
    passwd,
    [
      'root:x:0:0:root:/root:/usr/sbin/nologin',
      `sandbox:x:${SANDBOX_UID}:${SANDBOX_UID}:sandbox:${SANDBOX_HOME}:/bin/sh`,
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  writeFileSync(group, ['root:x:0:', `sandbox:x:${SANDBOX_UID}:`, 'nogroup:x:65534:', ''].join('\n'), { mode: 0o644 });
  return { passwd, group };
}
