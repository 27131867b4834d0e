import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostProcessesMatching } from '../../testing/host-processes.ts';
import { createSandbox, type Sandbox } from './create-sandbox.ts';
import { DEFAULT_SANDBOX_LIMITS, type SandboxLimits } from './sandbox-limits.ts';

const limits: SandboxLimits = { ...DEFAULT_SANDBOX_LIMITS, memoryMb: 256, maxProcesses: 32 };

function readAll(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
    });
    stream.on('close', () => resolve(text));
  });
}

describe('spawnSandboxed', () => {
  let sandbox: Sandbox;
  let root: string;
  let workspaceDir: string;

  beforeAll(async () => {
    sandbox = await createSandbox({ mode: 'bwrap' });
    root = mkdtempSync(path.join(tmpdir(), 'spawn-sandboxed-test-'));
    workspaceDir = path.join(root, 'task');
    mkdirSync(workspaceDir);
    if (sandbox.hostUser) {
      // As the server does for its data dir: the sandbox user may traverse the parent, and owns its workspace.
      chmodSync(root, 0o711);
      chownSync(workspaceDir, sandbox.hostUser.uid, sandbox.hostUser.gid);
    }
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs the program as the sandbox user in /workspace, with its argv intact and no way to the host loopback', async () => {
    let reached = 0;
    const listener = createServer((socket) => {
      reached++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as AddressInfo;
    const script = `const net = require("node:net"); console.log(JSON.stringify({ uid: process.getuid(), cwd: process.cwd(), argv: process.argv.slice(1), env: process.env.GREETING })); net.connect(${port}, "127.0.0.1").on("connect", () => console.log("connected")).on("error", (e) => console.log(e.code));`;
    const child = await sandbox.spawn({ workspaceDir, command: 'node', args: ['-e', script, 'two words', '$(id)', "it's"], env: { GREETING: 'hi' }, limits });
    const [stdout] = await Promise.all([readAll(child.stdout), child.exited]);
    const [report, network] = stdout.trim().split('\n');
    expect(JSON.parse(report!)).toEqual({ uid: 1000, cwd: '/workspace', argv: ['two words', '$(id)', "it's"], env: 'hi' });
    listener.close();
    expect(network).toBe('ECONNREFUSED');
    expect(reached).toBe(0);
  });

  it('keeps env values out of the host process list', async () => {
    const secret = `spawn-secret-${randomBytes(8).toString('hex')}`;
    const child = await sandbox.spawn({ workspaceDir, command: 'sh', args: ['-c', 'echo ready; exec sleep 30'], env: { TOKEN: secret }, limits });
    try {
      await new Promise((resolve) => child.stdout.once('data', resolve));
      expect(hostProcessesMatching(secret)).toEqual([]);
      expect(hostProcessesMatching('exec sleep 30').length).toBeGreaterThan(0);
    } finally {
      await child.kill();
    }
    expect(await child.exited).toMatchObject({ exitCode: null });
  });

  it('kills the program and everything it started', async () => {
    const seconds = `3${randomBytes(3).readUIntBE(0, 3)}`;
    const child = await sandbox.spawn({ workspaceDir, command: 'sh', args: ['-c', `sleep ${seconds} & echo started; sleep ${seconds}`], env: {}, limits });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    expect(hostProcessesMatching(`sleep ${seconds}`).length).toBeGreaterThan(0);
    await child.kill();
    await child.exited;
    expect(hostProcessesMatching(`sleep ${seconds}`)).toEqual([]);
  });

  it('reports a program that cannot be found as an early exit with its error on stderr', async () => {
    const child = await sandbox.spawn({ workspaceDir, command: 'no-such-mcp-server', args: [], env: {}, limits });
    const [stderr, exit] = await Promise.all([readAll(child.stderr), child.exited]);
    expect(exit.exitCode).not.toBe(0);
    expect(stderr).toContain('no-such-mcp-server');
  });
});
