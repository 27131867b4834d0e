import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

const PG_BIN = '/usr/lib/postgresql/15/bin';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * Gives the tests a PostgreSQL server: CONCIERGE_TEST_DATABASE_URL if set, else a private throwaway
 * cluster (Debian's postgresql package, run as the postgres user) that is removed afterwards.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const given = process.env.CONCIERGE_TEST_DATABASE_URL;
  if (given) {
    project.provide('databaseUrl', given);
    return () => {};
  }
  if (!fs.existsSync(`${PG_BIN}/initdb`)) {
    throw new Error('PostgreSQL tests need CONCIERGE_TEST_DATABASE_URL or Debian\'s postgresql package (apt-get install postgresql; scripts/setup.sh does it)');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'concierge-pg-'));
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const asPostgres = (command: string) => {
    if (os.userInfo().uid === 0) execFileSync('su', ['postgres', '-c', command], { stdio: 'ignore' });
    else execFileSync('sh', ['-c', command], { stdio: 'ignore' });
  };
  if (os.userInfo().uid === 0) execFileSync('chown', ['postgres', dir]);
  asPostgres(`${PG_BIN}/initdb -D ${dir}/data -U postgres --auth=trust`);
  asPostgres(`${PG_BIN}/pg_ctl -D ${dir}/data -l ${dir}/log -w -o '-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c max_connections=300' start`);
  project.provide('databaseUrl', `postgres://postgres@127.0.0.1:${port}/postgres`);
  return () => {
    asPostgres(`${PG_BIN}/pg_ctl -D ${dir}/data -m immediate stop`);
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
