import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../config.ts';
import { createLogger } from '../../logging/logger.ts';
import { JWT_SECRET_FILE, loadServerSecrets, parseSecretList } from './server-secrets.ts';

const LONG = 'x'.repeat(32);
let dataDir: string;
let lines: string[];
const logger = () => createLogger({ level: 'debug', write: (line) => lines.push(line) });

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'concierge-secrets-'));
  lines = [];
});
afterEach(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('parseSecretList', () => {
  it('splits on commas, trims, drops empties and duplicates, keeps the order (first signs)', () => {
    expect(parseSecretList(` ${LONG}1 ,, ${LONG}2,${LONG}1 `, 'X')).toEqual([`${LONG}1`, `${LONG}2`]);
  });

  it('throws ConfigError naming the variable when a secret is too short or none is given', () => {
    expect(() => parseSecretList(`${LONG},short`, 'CONCIERGE_JWT_SECRET')).toThrow(ConfigError);
    expect(() => parseSecretList(`${LONG},short`, 'CONCIERGE_JWT_SECRET')).toThrow(/CONCIERGE_JWT_SECRET: secret #2/);
    expect(() => parseSecretList(' , ', 'CONCIERGE_JWT_SECRET')).toThrow(/holds no secret/);
  });
});

describe('loadServerSecrets', () => {
  it('uses CONCIERGE_JWT_SECRET when set and writes nothing to the data dir', async () => {
    await expect(loadServerSecrets({ jwtSecret: `${LONG}a,${LONG}b`, dataDir, logger: logger() })).resolves.toEqual({ secrets: [`${LONG}a`, `${LONG}b`], source: 'environment' });
    await expect(fs.readdir(dataDir)).resolves.toEqual([]);
  });

  it('generates a secret once into <dataDir>/jwt-secret with mode 0600, and reuses it', async () => {
    const first = await loadServerSecrets({ jwtSecret: undefined, dataDir, logger: logger() });
    expect(first?.source).toBe('file');
    expect(first?.secrets[0]).toMatch(/^[0-9a-f]{64}$/);
    const stat = await fs.stat(path.join(dataDir, JWT_SECRET_FILE));
    expect(stat.mode & 0o777).toBe(0o600);
    const second = await loadServerSecrets({ jwtSecret: undefined, dataDir, logger: logger() });
    expect(second?.secrets).toEqual(first?.secrets);
    expect(lines.join('\n')).not.toContain(first!.secrets[0]!);
  });

  it('agrees on one secret when two processes start at once', async () => {
    const results = await Promise.all([1, 2, 3].map(() => loadServerSecrets({ jwtSecret: undefined, dataDir, logger: logger() })));
    expect(new Set(results.map((result) => result?.secrets[0])).size).toBe(1);
  });

  it('tightens a secret file that others can read, with a warning', async () => {
    const file = path.join(dataDir, JWT_SECRET_FILE);
    await fs.writeFile(file, `${LONG}\n`, { mode: 0o644 });
    await fs.chmod(file, 0o644);
    await expect(loadServerSecrets({ jwtSecret: undefined, dataDir, logger: logger() })).resolves.toEqual({ secrets: [LONG], source: 'file' });
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(lines.some((line) => line.includes('"level":"warn"') && line.includes('0600'))).toBe(true);
  });

  it('fails fast on a corrupt secret file rather than silently replacing it', async () => {
    await fs.writeFile(path.join(dataDir, JWT_SECRET_FILE), 'short\n', { mode: 0o600 });
    await expect(loadServerSecrets({ jwtSecret: undefined, dataDir, logger: logger() })).rejects.toThrow(ConfigError);
  });

  it('resolves to undefined with a warning when no secret is set and the data dir cannot hold one', async () => {
    const blocker = path.join(dataDir, 'a-file');
    await fs.writeFile(blocker, '');
    await expect(loadServerSecrets({ jwtSecret: undefined, dataDir: path.join(blocker, 'data'), logger: logger() })).resolves.toBeUndefined();
    expect(lines.some((line) => line.includes('JWT_NOT_CONFIGURED'))).toBe(true);
  });
});
