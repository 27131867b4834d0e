import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { startFakeMcpServer } from '../../server/src/testing/start-fake-mcp-server.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient, request } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { runToolTask, toolResultsSentToModel } from './agent-harness.ts';

// What a visitor who drives the agent's shell can reach: no nested user namespaces (a way back to
// capabilities), and none of the site owner's token secrets, which serve MCP templates only.

const ORIGIN = 'http://localhost:3000';
const TOKEN_SECRET = `tok-secret-${randomBytes(10).toString('hex')}`;
const TOKEN_ENV = `tok-env-${randomBytes(10).toString('hex')}`;

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
let crm: Awaited<ReturnType<typeof startFakeMcpServer>>;
const OWNER_TOKEN = `owner-${randomBytes(8).toString('hex')}`;

const shell = (command: string) => ({ name: 'run_shell_command' as const, args: { command } });

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { LOG_LEVEL: 'info' } });
  api = createApiClient(server.url, (await server.createApiKey()).key);
  crm = await startFakeMcpServer({ requiredAuthorization: `Bearer ${OWNER_TOKEN}` });
  const projectFile = `${server.dataDir}.projects.json`;
  const mcpServers = { crm: { type: 'http', url: crm.url, enabled: true, headers: { Authorization: 'Bearer {{mcp.CRM_TOKEN}}' } } };
  await fs.writeFile(projectFile, JSON.stringify({ projects: { mcp: { mcpServers } } }));
  try {
    const applied = await server.cli(['projects', 'apply', projectFile]);
    if (applied.code !== 0) throw new Error(`projects apply failed: ${applied.stderr}`);
  } finally {
    await fs.rm(projectFile, { force: true });
  }
}, 120_000);

afterAll(async () => {
  await crm?.close();
  await server?.stop();
  await fake?.close();
});

describe('the sandbox as a visitor reaches it', () => {
  it('refuses nested user namespaces', async () => {
    const run = await runToolTask(api, fake, 'userns', [shell('unshare -U true; echo "rc=$?"; unshare -Ur id -u; echo "rc=$?"')]);
    expect(run.task.status).toBe('completed');
    const output = run.results[0]?.output ?? '';
    expect(output).toContain('rc=1');
    expect(output).not.toContain('rc=0');
  });

  it('sees no account of the host: only root, the sandbox user and nobody', async () => {
    const hostAccounts = readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => line.split(':')[0]).filter((name) => name && !['root', 'nobody'].includes(name));
    expect(hostAccounts.length).toBeGreaterThan(0);
    const run = await runToolTask(api, fake, 'accounts', [shell('whoami; id -gn; cat /etc/passwd /etc/group; touch mine; ls -l mine')]);
    expect(run.task.status).toBe('completed');
    const output = run.results[0]?.output ?? '';
    expect(output).toMatch(/--- stdout ---\nsandbox\nsandbox\nroot:x:0:0:/);
    expect(output).toMatch(/sandbox sandbox \d+ .* mine/);
    for (const name of hostAccounts) expect(output).not.toMatch(new RegExp(`(^|\\n)${name}:`));
  });

  it('cannot change host-global sysctls such as core_pattern', async () => {
    const before = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const run = await runToolTask(api, fake, 'sysctl', [shell('echo "|/workspace/evil" > /proc/sys/kernel/core_pattern; echo "rc=$?"')]);
    expect(run.task.status).toBe('completed');
    expect(run.results[0]?.output).toContain('Read-only file system');
    expect(run.results[0]?.output).toContain('rc=2');
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(before);
  });

  it('gives a widget task the token exchange’s env but never its secrets', async () => {
    const created = await server.cli(['apps', 'create', '--project', 'default', '--name', 'reach', '--origin', ORIGIN, '--json']);
    expect(created.code).toBe(0);
    const app = JSON.parse(created.stdout) as { appId: string; appSecret: string };
    const exchange = await request(`${server.url}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: { appId: app.appId, appSecret: app.appSecret, endUserId: 'visitor-1', env: { TOKEN_ENV }, secrets: { TOKEN_SECRET } },
    });
    expect(exchange.status).toBe(200);
    const token = exchange.body.data.token as string;
    const run = await runToolTask(api, fake, 'token-secrets', [shell('echo "env=$TOKEN_ENV secret=$TOKEN_SECRET"; cat /proc/self/environ | tr "\\0" "\\n" | grep -c TOKEN_')], {
      headers: { authorization: `Bearer ${token}`, origin: ORIGIN },
    });
    expect(run.task.status).toBe('completed');
    const output = run.results[0]?.output ?? '';
    expect(output).toContain(`env=${TOKEN_ENV} secret=\n`);
    expect(output).not.toContain('[REDACTED]');
    expect(output).toMatch(/--- stdout ---\nenv=\S+ secret=\n1\n/);
    expect(toolResultsSentToModel(fake, run.marker).join('\n')).not.toContain(TOKEN_SECRET);
  });
});

describe('MCP templates in a widget task', () => {
  it('resolve from the token exchange only, never from the visitor’s own env or secrets', async () => {
    const created = await server.cli(['apps', 'create', '--project', 'mcp', '--name', 'templates', '--origin', ORIGIN, '--json']);
    expect(created.code).toBe(0);
    const app = JSON.parse(created.stdout) as { appId: string; appSecret: string };
    const exchange = await request(`${server.url}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: { appId: app.appId, appSecret: app.appSecret, endUserId: 'visitor-2', secrets: { CRM_TOKEN: OWNER_TOKEN } },
    });
    expect(exchange.status).toBe(200);
    const mcpApi = createApiClient(server.url, (await server.createApiKey('mcp')).key);
    const run = await runToolTask(mcpApi, fake, 'template-override', [{ name: 'crm__lookup_customer', args: { id: '7' } }], {
      headers: { authorization: `Bearer ${exchange.body.data.token as string}`, origin: ORIGIN },
      body: { env: { CRM_TOKEN: 'visitor-env' }, secrets: { CRM_TOKEN: 'visitor-secret' } },
    });
    expect(run.task.status).toBe('completed');
    expect(run.results).toEqual([expect.objectContaining({ status: 'success', output: expect.stringContaining('Customer 7: Ada Lovelace') })]);
    expect(crm.calls).toEqual([{ tool: 'lookup_customer', args: { id: '7' } }]);
  });

  it('keep the owner’s token secret redacted when the visitor sends a task secret of the same name', async () => {
    const created = await server.cli(['apps', 'create', '--project', 'mcp', '--name', 'shadowing', '--origin', ORIGIN, '--json']);
    expect(created.code).toBe(0);
    const app = JSON.parse(created.stdout) as { appId: string; appSecret: string };
    const exchange = await request(`${server.url}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: { appId: app.appId, appSecret: app.appSecret, endUserId: 'visitor-3', secrets: { CRM_TOKEN: OWNER_TOKEN } },
    });
    expect(exchange.status).toBe(200);
    const visitor = createApiClient(server.url, exchange.body.data.token as string);
    const headers = { origin: ORIGIN };
    // The harness waits with an API key of the project; the task itself is the visitor's.
    const mcpApi = createApiClient(server.url, (await server.createApiKey('mcp')).key);
    const run = await runToolTask(mcpApi, fake, 'shadow-secret', [{ name: 'crm__whoami', args: {} }], {
      headers: { ...headers, authorization: `Bearer ${exchange.body.data.token as string}` },
      body: { secrets: { CRM_TOKEN: 'visitor-own-value-1' } },
    });
    expect(run.task.status).toBe('completed');
    // The tool really echoed the owner's credential: it reached the visitor only redacted.
    expect(run.results).toEqual([expect.objectContaining({ status: 'success', output: 'called with Bearer [REDACTED]' })]);
    const seen = [
      JSON.stringify(run.events),
      JSON.stringify((await visitor.call('GET', `/tasks/${run.taskId}/history`, undefined, headers)).body),
      JSON.stringify((await visitor.call('GET', `/tasks/${run.taskId}`, undefined, headers)).body),
      toolResultsSentToModel(fake, run.marker).join('\n'),
      server.lines.join('\n'),
      ...readdirSync(server.dataDir)
        .filter((name) => name.startsWith('concierge.db'))
        .map((name) => readFileSync(`${server.dataDir}/${name}`).toString('latin1')),
    ];
    for (const text of seen) expect(text).not.toContain(OWNER_TOKEN);
  });
});
