import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import { type AddressInfo, createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stdioMcpProbeServer } from '../../server/src/testing/stdio-mcp-probe.ts';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { hostProcessesMatching, runToolTask, shellOutput, type ToolStep } from './agent-harness.ts';

// A project's stdio MCP server, driven by the fake model through the real server, agent loop and
// bubblewrap: it must have no more reach than the shell, its stderr must reach the log redacted, and
// what it answers (results, errors) must be capped before users and the model see it.

const SECRET = `mcp-secret-${randomBytes(12).toString('hex')}`;
const MAX_OUTPUT_BYTES = 4096;

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
let dataDir: string;
let listener: Server;
let listenerPort: number;
let reached = 0;
let broken: http.Server;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join('/var/tmp', 'concierge-mcp-'));
  listener = createServer((socket) => {
    reached++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  listenerPort = (listener.address() as AddressInfo).port;
  // An HTTP MCP server that fails with a huge body holding the task's secret, as a hostile or broken one might.
  broken = http.createServer((_request, response) => response.writeHead(500).end(`failed for ${SECRET} ${'z'.repeat(50_000)}`));
  await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
  const brokenUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/mcp?key={{mcp.PROBE_TOKEN}}`;
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { CONCIERGE_DATA_DIR: dataDir, LOG_LEVEL: 'info' } });
  const projectFile = path.join(dataDir, '..', `${path.basename(dataDir)}.projects.json`);
  const project = {
    sandbox: { maxOutputBytes: MAX_OUTPUT_BYTES, commandTimeoutMs: 10_000 },
    mcpServers: { probe: stdioMcpProbeServer({ env: { PROBE_TOKEN: '{{mcp.PROBE_TOKEN}}' } }), broken: { type: 'http', url: brokenUrl } },
  };
  await fs.writeFile(projectFile, JSON.stringify({ projects: { default: project } }));
  try {
    const applied = await server.cli(['projects', 'apply', projectFile]);
    if (applied.code !== 0) throw new Error(`projects apply failed: ${applied.stderr}`);
  } finally {
    await fs.rm(projectFile, { force: true });
  }
  api = createApiClient(server.url, (await server.createApiKey()).key);
});

afterAll(async () => {
  await server?.stop();
  await fake?.close();
  listener?.close();
  broken?.close();
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

const probe = (tool: string, args: Record<string, unknown> = {}) => ({ name: `probe__${tool}` as ToolStep['name'], args });
const withSecret = { body: { secrets: { PROBE_TOKEN: SECRET } } };

describe('a stdio MCP server through the agent', () => {
  it('runs inside the task sandbox: same uid and workspace as the shell, no shadow, no data dir, no host loopback', async () => {
    const run = await runToolTask(
      api,
      fake,
      'mcp-reach',
      [
        { name: 'run_shell_command', args: { command: 'echo from-shell > /workspace/shell.txt; id -u' } },
        probe('whoami'),
        probe('read_path', { path: '/workspace/shell.txt' }),
        probe('read_path', { path: '/etc/shadow' }),
        probe('read_path', { path: path.join(dataDir, 'concierge.db') }),
        probe('connect', { port: listenerPort }),
        probe('connect', { port: Number(new URL(server.url).port) }),
      ],
      withSecret,
    );
    expect(run.task.status).toBe('completed');
    expect(run.results.map(({ toolName, status, output }) => ({ toolName, status, output }))).toEqual([
      { toolName: 'run_shell_command', status: 'success', output: shellOutput(0, '1000') },
      { toolName: 'probe__whoami', status: 'success', output: 'uid=1000 gid=1000 hostname=sandbox cwd=/' },
      { toolName: 'probe__read_path', status: 'success', output: 'from-shell\n' },
      { toolName: 'probe__read_path', status: 'error', output: 'read_path: EACCES' },
      { toolName: 'probe__read_path', status: 'error', output: 'read_path: ENOENT' },
      { toolName: 'probe__connect', status: 'error', output: 'connect: ECONNREFUSED' },
      { toolName: 'probe__connect', status: 'error', output: 'connect: ECONNREFUSED' },
    ]);
    expect(reached).toBe(0);
    // The server lives for one turn and goes with it.
    expect(hostProcessesMatching('dependency-free stdio MCP server')).toEqual([]);
  });

  it('logs the server stderr with the task secret redacted', async () => {
    await runToolTask(api, fake, 'mcp-stderr', [probe('whoami')], withSecret);
    const stderrLines = server.lines.filter((line) => line.includes('"MCP server stderr"'));
    expect(stderrLines.some((line) => line.includes('probe starting, token=[REDACTED]'))).toBe(true);
    expect(server.lines.filter((line) => line.includes(SECRET))).toEqual([]);
  });

  it('caps a tool result, and cuts tool errors and the unavailable-tools note to short redacted notes', async () => {
    const run = await runToolTask(api, fake, 'mcp-caps', [probe('big', { bytes: 100_000 }), probe('fail', { message: `${SECRET} ${'e'.repeat(20_000)}` })], withSecret);
    expect(run.task.status).toBe('completed');
    const [big, failed] = run.results;
    expect(big).toMatchObject({ status: 'success', output: `${'x'.repeat(MAX_OUTPUT_BYTES)}\n(MCP result truncated to the first ${MAX_OUTPUT_BYTES} of 100000 bytes)` });
    expect(failed?.status).toBe('error');
    expect(failed?.output).toMatch(/^The MCP tool probe__fail failed: MCP error -32000: \[REDACTED\] e+… \(truncated\)$/);
    expect(failed?.output.length).toBeLessThan(400);
    const note = run.events.find((event) => event.event === 'status' && typeof (event.data as { message?: string }).message === 'string');
    const message = (note?.data as { message?: string } | undefined)?.message ?? '';
    expect(message).toMatch(/^Some tools are unavailable: broken \(/);
    expect(message.length).toBeLessThan(400);
    expect(JSON.stringify(run.events)).not.toContain(SECRET);
  });
});
