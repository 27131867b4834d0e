import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeMcpServer } from '../../testing/start-fake-mcp-server.ts';
import { stdioMcpProbeServer } from '../../testing/stdio-mcp-probe.ts';
import { createSandbox } from '../sandbox/create-sandbox.ts';
import { DEFAULT_SANDBOX_LIMITS } from '../sandbox/sandbox-limits.ts';
import { connectMcpServers } from './connect-mcp-servers.ts';
import { MAX_ERROR_NOTE_CHARS } from './to-error-note.ts';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

const context = { taskId: 't', workspaceDir: '/tmp', env: {}, limits: DEFAULT_SANDBOX_LIMITS, signal: new AbortController().signal };

describe('connectMcpServers', () => {
  it('exposes filtered tools as server__tool and calls them with resolved headers', async () => {
    const fake = await startFakeMcpServer({ requiredAuthorization: 'Bearer crm-secret' });
    cleanup.push(fake.close);
    const connection = await connectMcpServers(
      { crm: { type: 'http', url: fake.url, enabled: true, headers: { Authorization: 'Bearer {{mcp.CRM_TOKEN}}' }, tools: { include: ['lookup_*'] } } },
      { CRM_TOKEN: 'crm-secret' },
      { signal: new AbortController().signal },
    );
    cleanup.push(connection.close);
    expect(connection.failures).toEqual([]);
    expect(connection.tools.map((tool) => tool.name)).toEqual(['crm__lookup_customer']);
    expect(connection.tools[0]!.jsonSchema).toMatchObject({ type: 'object', properties: { id: { type: 'string' } } });
    const result = await connection.tools[0]!.execute({ id: '42' }, context);
    expect(result).toEqual({ status: 'success', output: 'Customer 42: Ada Lovelace, tier gold' });
    expect(fake.calls).toEqual([{ tool: 'lookup_customer', args: { id: '42' } }]);
  });

  it('reports a server it cannot use and skips disabled ones', async () => {
    const fake = await startFakeMcpServer({ requiredAuthorization: 'Bearer right' });
    cleanup.push(fake.close);
    const connection = await connectMcpServers(
      {
        wrongKey: { type: 'http', url: fake.url, enabled: true, headers: { Authorization: 'Bearer wrong' } },
        missingValue: { type: 'http', url: fake.url, enabled: true, headers: { Authorization: 'Bearer {{mcp.NOPE}}' } },
        off: { type: 'http', url: fake.url, enabled: false },
      },
      {},
      { signal: new AbortController().signal },
    );
    cleanup.push(connection.close);
    expect(connection.tools).toEqual([]);
    expect(connection.failures.map((failure) => failure.server).sort()).toEqual(['missingValue', 'wrongKey']);
    expect(connection.failures.find((failure) => failure.server === 'missingValue')?.reason).toMatch(/NOPE/);
  });
});

describe('connectMcpServers with stdio servers', () => {
  const redact = (text: string) => text.replaceAll('probe-secret', '[REDACTED]');

  async function connectProbe(extra: Parameters<typeof stdioMcpProbeServer>[0] = {}, more: { withholdErrors?: boolean } = {}) {
    const sandbox = await createSandbox({ mode: 'bwrap' });
    const workspaceDir = mkdtempSync(path.join(tmpdir(), 'mcp-stdio-test-'));
    // As the server creates workspaces: owned by the sandbox's host user when it drops privileges.
    if (sandbox.hostUser) chownSync(workspaceDir, sandbox.hostUser.uid, sandbox.hostUser.gid);
    cleanup.push(async () => rmSync(workspaceDir, { recursive: true, force: true }));
    const lines: Record<string, unknown>[] = [];
    const logger = { info: (fields: Record<string, unknown>) => lines.push(fields) };
    const limits = { ...DEFAULT_SANDBOX_LIMITS, maxOutputBytes: 2048 };
    const connection = await connectMcpServers(
      { probe: { ...stdioMcpProbeServer(extra), enabled: true } },
      { PROBE_TOKEN: 'probe-secret' },
      { signal: new AbortController().signal, sandbox, workspaceDir, limits, redact, logger, ...more },
    );
    cleanup.push(connection.close);
    const call = (tool: string, args: Record<string, unknown> = {}) =>
      connection.tools.find((definition) => definition.name === `probe__${tool}`)!.execute(args, { ...context, workspaceDir, limits });
    return { connection, call, lines };
  }

  it('starts the server inside the sandbox as the sandbox user, in / (not the visitor-writable workspace)', async () => {
    const { connection, call } = await connectProbe();
    expect(connection.failures).toEqual([]);
    expect(await call('whoami')).toEqual({ status: 'success', output: 'uid=1000 gid=1000 hostname=sandbox cwd=/' });
    expect(await call('read_path', { path: '/etc/shadow' })).toEqual({ status: 'error', output: 'read_path: EACCES' });
  });

  it('logs its stderr line by line, redacted and capped', async () => {
    const { connection, lines } = await connectProbe({ env: { PROBE_TOKEN: '{{mcp.PROBE_TOKEN}}', PROBE_STDERR_LINES: '5000' } });
    await expect.poll(() => lines.some((line) => line.dropped === 0), { timeout: 10_000 }).toBe(true);
    expect(lines[0]).toEqual({ server: 'probe', stderr: 'probe starting, token=[REDACTED]' });
    expect(lines[1]).toEqual({ server: 'probe', stderr: 'probe noise line 0' });
    // The probe writes all its lines before answering initialize, so they are all in by now.
    await connection.close();
    await expect.poll(() => lines.at(-1), { timeout: 10_000 }).toEqual({ server: 'probe', dropped: 4801 });
    expect(lines.filter((line) => 'stderr' in line)).toHaveLength(200);
  });

  it('caps a tool result at maxOutputBytes and cuts a tool error to a short redacted note', async () => {
    const { call } = await connectProbe();
    const big = await call('big', { bytes: 10_000 });
    expect(big.output).toBe(`${'x'.repeat(2048)}\n(MCP result truncated to the first 2048 of 10000 bytes)`);
    const failed = await call('fail', { message: `probe-secret ${'e'.repeat(5000)}` });
    expect(failed.status).toBe('error');
    expect(failed.output).toMatch(/^The MCP tool probe__fail failed: MCP error -32000: \[REDACTED\] e+… \(truncated\)$/);
    expect(failed.output.length).toBeLessThan(MAX_ERROR_NOTE_CHARS + 100);
  });

  it('shows the visitor the same fixed note for every error when errors are withheld, whether or not it repeats a secret', async () => {
    // Red team: withholding only the notes that held a token secret answered which guess was right.
    const { call, lines } = await connectProbe({}, { withholdErrors: true });
    const right = await call('fail', { message: 'Invalid orderId: probe-secret' });
    const wrong = await call('fail', { message: 'Invalid orderId: probe-guess1' });
    expect(right).toEqual({ status: 'error', output: 'The MCP tool probe__fail failed: the details are in the server log (error -32000)' });
    expect(wrong).toEqual(right);
    expect(lines.filter((line) => line.reason !== undefined).map((line) => line.reason)).toEqual([
      expect.stringContaining('Invalid orderId: probe-secret'),
      expect.stringContaining('Invalid orderId: probe-guess1'),
    ]);
  });

  it('reports a stdio server as unavailable when no sandbox is given', async () => {
    const connection = await connectMcpServers({ probe: { ...stdioMcpProbeServer(), enabled: true } }, {}, { signal: new AbortController().signal });
    cleanup.push(connection.close);
    expect(connection.failures).toEqual([{ server: 'probe', reason: expect.stringContaining('only inside a task sandbox') }]);
  });
});

describe('connectMcpServers failure notes', () => {
  it('truncates and redacts what a failing HTTP server answered', async () => {
    const httpServer = http.createServer((_request, response) => response.writeHead(500).end(`boom hunter2 ${'z'.repeat(100_000)}`));
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => httpServer.close(() => resolve())));
    const { port } = httpServer.address() as AddressInfo;
    const connection = await connectMcpServers(
      { broken: { type: 'http', url: `http://127.0.0.1:${port}/mcp`, enabled: true } },
      {},
      { signal: new AbortController().signal, redact: (text) => text.replaceAll('hunter2', '[REDACTED]') },
    );
    cleanup.push(connection.close);
    const reason = connection.failures[0]?.reason ?? '';
    expect(reason).toContain('[REDACTED]');
    expect(reason).not.toContain('hunter2');
    expect(reason.length).toBeLessThanOrEqual(MAX_ERROR_NOTE_CHARS + '… (truncated)'.length);
  });
});
