import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashAppSecret } from '../services/widget-apps/widget-apps-service.ts';
import { openDatabase } from '../store/open-database.ts';

const MAIN = path.resolve(fileURLToPath(import.meta.url), '../main.ts');
let dataDir: string;

function concierge(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...process.env, CONCIERGE_DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'concierge-apps-cli-'));
});
afterAll(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('appsCommand', () => {
  it('creates an app with --json: exactly one object {appId, appSecret, project, origins}, the project created, the secret stored hashed', async () => {
    const result = await concierge(['apps', 'create', '--project', 'shop', '--name', 'Shop', '--origin', 'https://Shop.example.com', '--origin', 'https://*.example.org', '--json']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const created = JSON.parse(lines[0]!);
    expect(Object.keys(created).sort()).toEqual(['appId', 'appSecret', 'origins', 'project']);
    expect(created).toEqual({ appId: expect.stringMatching(/^app_[0-9a-f]{24}$/), appSecret: expect.stringMatching(/^cs_[0-9a-f]{64}$/), project: 'shop', origins: ['https://shop.example.com', 'https://*.example.org'] });
    const database = await openDatabase({ dataDir });
    try {
      const row = await database.db.selectFrom('widget_apps').selectAll().where('id', '=', created.appId).executeTakeFirstOrThrow();
      expect(row.secret_hash).toBe(hashAppSecret(created.appSecret));
      expect(await database.db.selectFrom('projects').select('name').where('name', '=', 'shop').executeTakeFirst()).toBeDefined();
    } finally {
      await database.close();
    }
  });

  it('prints the secret once in text mode with a warning to keep it on the backend', async () => {
    const result = await concierge(['apps', 'create', '--project', 'shop', '--name', 'Blog', '--origin', 'http://localhost:3000']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/appSecret: cs_[0-9a-f]{64}/);
    expect(result.stdout).toMatch(/shown once/);
  });

  it.each([
    [['apps', 'create', '--name', 'N', '--origin', 'https://a.example.com'], /--project/],
    [['apps', 'create', '--project', 'P', '--origin', 'https://a.example.com'], /--name/],
    [['apps', 'create', '--project', 'P', '--name', 'N'], /--origin/],
    [['apps', 'create', '--project', 'P', '--name', 'N', '--origin', 'https://a.example.com', '--colour', 'red'], /colour/],
    [['apps', 'frobnicate'], /unknown apps command/],
    [['apps', 'revoke'], /app id/],
  ])('exits 2 on bad usage %o', async (args, message) => {
    const result = await concierge(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

  it('exits 1 with one line on stderr for an invalid origin', async () => {
    const result = await concierge(['apps', 'create', '--project', 'other', '--name', 'N', '--origin', 'https://*', '--json']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^concierge: Invalid origin "https:\/\/\*"/)]);
  });

  it('revokes an app (exit 0, {appId, revoked}) and exits 1 for an unknown one', async () => {
    const created = JSON.parse((await concierge(['apps', 'create', '--project', 'shop', '--name', 'Old', '--origin', 'https://old.example.com', '--json'])).stdout);
    const revoked = await concierge(['apps', 'revoke', created.appId, '--json']);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({ appId: created.appId, revoked: true });
    const unknown = await concierge(['apps', 'revoke', 'app_000000000000000000000000']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No widget app/);
  });

  it('replaces an app’s origins with apps origins, keeping its id and secret, and refuses an unknown app', async () => {
    const created = JSON.parse((await concierge(['apps', 'create', '--project', 'shop', '--name', 'Moving', '--origin', 'http://localhost:3000', '--json'])).stdout);
    const updated = await concierge(['apps', 'origins', created.appId, '--origin', 'http://localhost:3000', '--origin', 'http://localhost:3001', '--json']);
    expect(updated).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(updated.stdout)).toEqual({ appId: created.appId, origins: ['http://localhost:3000', 'http://localhost:3001'] });
    const database = await openDatabase({ dataDir });
    try {
      const row = await database.db.selectFrom('widget_apps').selectAll().where('id', '=', created.appId).executeTakeFirstOrThrow();
      expect(JSON.parse(row.origins)).toEqual(['http://localhost:3000', 'http://localhost:3001']);
      expect(row.secret_hash).toBe(hashAppSecret(created.appSecret));
    } finally {
      await database.close();
    }
    const unknown = await concierge(['apps', 'origins', 'app_000000000000000000000000', '--origin', 'https://a.example.com']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No active widget app with id app_000000000000000000000000');
    const noOrigin = await concierge(['apps', 'origins', created.appId]);
    expect(noOrigin.code).toBe(2);
  });
});
