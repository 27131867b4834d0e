import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { grantSandboxTraversal } from './grant-sandbox-traversal.ts';
import { SandboxUnavailableError } from './sandbox-unavailable-error.ts';

const root = mkdtempSync(path.join(tmpdir(), 'grant-traversal-'));
const user = { uid: 99_999, gid: 99_999 };
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('grantSandboxTraversal', () => {
  it('gives the data dir and workspaces/ the sandbox group with traverse-only access when the server is root', async () => {
    chmodSync(root, 0o755);
    const dataDir = path.join(root, 'data');
    const workspaces = path.join(dataDir, 'workspaces');
    mkdirSync(workspaces, { recursive: true, mode: 0o700 });
    await grantSandboxTraversal(dataDir, workspaces, user);
    for (const dir of [dataDir, workspaces]) {
      const stats = statSync(dir);
      expect({ gid: stats.gid, mode: stats.mode & 0o7777 }).toEqual({ gid: user.gid, mode: 0o710 });
    }
  });

  it('refuses, naming the folder, when a folder above the data dir is closed to the sandbox user', async () => {
    const closed = path.join(root, 'closed');
    const dataDir = path.join(closed, 'data');
    mkdirSync(path.join(dataDir, 'workspaces'), { recursive: true });
    chmodSync(closed, 0o700);
    const attempt = grantSandboxTraversal(dataDir, path.join(dataDir, 'workspaces'), user);
    await expect(attempt).rejects.toBeInstanceOf(SandboxUnavailableError);
    await expect(attempt).rejects.toThrow(`${closed} is closed to it`);
  });
});
