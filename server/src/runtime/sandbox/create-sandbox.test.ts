import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, DEFAULT_SANDBOX_HOST_UID, type Sandbox } from './create-sandbox.ts';
import { DEFAULT_SANDBOX_LIMITS, type SandboxLimits } from './sandbox-limits.ts';
import { SandboxUnavailableError } from './sandbox-unavailable-error.ts';
import { hostProcessesMatching } from '../../testing/host-processes.ts';

const limits: SandboxLimits = { ...DEFAULT_SANDBOX_LIMITS, commandTimeoutMs: 10_000, memoryMb: 256, maxProcesses: 32 };

function concierge_cgroups(): string[] {
  const parent = `concierge-sandboxes-${process.pid}`;
  return ['/sys/fs/cgroup/pids', '/sys/fs/cgroup/cpu', `/sys/fs/cgroup/pids/${parent}`, `/sys/fs/cgroup/cpu/${parent}`].flatMap((dir) =>
    existsSync(dir) ? readdirSync(dir).filter((name) => name.startsWith(`concierge-${process.pid}-`)) : [],
  );
}

describe('createSandbox', () => {
  let sandbox: Sandbox;
  let root: string;
  let workspaceDir: string;
  let siblingDir: string;

  beforeAll(async () => {
    sandbox = await createSandbox({ mode: 'bwrap' });
    root = mkdtempSync(path.join(tmpdir(), 'sandbox-test-'));
    workspaceDir = path.join(root, 'task-a');
    siblingDir = path.join(root, 'task-b');
    mkdirSync(workspaceDir);
    mkdirSync(siblingDir);
    writeFileSync(path.join(siblingDir, 'private.txt'), 'other task data');
    if (sandbox.hostUser) {
      // As the server does for its data dir: the sandbox user may traverse the parent, and owns its workspace.
      chmodSync(root, 0o711);
      chownSync(workspaceDir, sandbox.hostUser.uid, sandbox.hostUser.gid);
    }
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const run = (command: string, extra: Partial<Parameters<Sandbox['run']>[0]> = {}) =>
    sandbox.run({ workspaceDir, command, env: {}, limits, ...extra });

  it('reports what this host enforces when bwrap and cgroups work', () => {
    expect(sandbox.mode).toBe('bwrap');
    expect(sandbox.enforcement).toMatchObject({ network: 'none', fileSize: true, openFiles: true });
    expect(sandbox.enforcement.isolation).toContain('bubblewrap');
    if (existsSync('/sys/fs/cgroup/pids/cgroup.procs')) {
      expect(sandbox.enforcement).toMatchObject({ cgroups: 'v1', memory: true, processes: true, cpu: true });
    }
  });

  it('runs the command in /workspace as uid 1000 with exit code and output when it succeeds', async () => {
    writeFileSync(path.join(workspaceDir, 'hello.txt'), 'hi from host');
    const result = await run('id -u; pwd; cat hello.txt; echo oops >&2; echo made > made.txt; exit 3');
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe('1000\n/workspace\nhi from host');
    expect(result.stderr).toBe('oops\n');
    expect(result.limit).toBeUndefined();
    expect(readFileSync(path.join(workspaceDir, 'made.txt'), 'utf8')).toBe('made\n');
  });

  it('passes only PATH, HOME, LANG and the given env when the server has its own env', async () => {
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    process.env.CONCIERGE_TEST_CANARY = canary;
    try {
      const result = await run('env', { env: { TASK_VAR: 'task-value', 'BAD-NAME': 'x' } });
      const names = result.stdout
        .trim()
        .split('\n')
        .map((line) => line.split('=')[0])
        .sort();
      expect(names).toEqual(['HOME', 'LANG', 'PATH', 'PWD', 'TASK_VAR']);
      expect(result.stdout).not.toContain(canary);
      expect(result.stdout).toContain('TASK_VAR=task-value');
    } finally {
      delete process.env.CONCIERGE_TEST_CANARY;
    }
  });

  it('keeps env values out of the host process list while the command runs', async () => {
    const secret = `secret-${randomBytes(8).toString('hex')}`;
    const running = run('sleep 1', { env: { API_TOKEN: secret } });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(hostProcessesMatching(secret)).toEqual([]);
    expect((await running).exitCode).toBe(0);
  });

  it('refuses reading /etc/shadow, /etc/gshadow, /root and private /etc dirs when asked to', async () => {
    const result = await run(
      'cat /etc/shadow; echo "rc=$?"; cat /etc/gshadow; echo "rc=$?"; ls /root; echo "rc=$?"; ls /etc/ssl/private | wc -l',
    );
    expect(result.stdout).toBe('rc=1\nrc=1\nrc=2\n0\n');
    expect(result.stdout + result.stderr).not.toMatch(/root:[^:]*:\d+:/);
  });

  it('hides sibling workspaces and the host path of its own workspace when probed', async () => {
    const result = await run(`ls ${siblingDir}; echo "rc=$?"; ls ${root}; echo "rc=$?"; ls ${workspaceDir}; echo "rc=$?"`);
    expect(result.stdout).toBe('rc=2\nrc=2\nrc=2\n');
    expect(result.stdout).not.toContain('private.txt');
  });

  it('refuses writes outside /workspace and keeps /tmp private when a command tries', async () => {
    const marker = `marker-${randomBytes(4).toString('hex')}`;
    const result = await run(
      `for target in /usr/${marker} /etc/${marker} /${marker} /bin/${marker}; do echo x > "$target" 2>/dev/null; echo "rc=$?"; done; echo x > /tmp/${marker} && echo tmp-ok`,
    );
    expect(result.stdout).toBe('rc=2\nrc=2\nrc=2\nrc=2\ntmp-ok\n');
    for (const dir of ['/usr', '/etc', '/', '/bin', tmpdir()]) expect(existsSync(path.join(dir, marker))).toBe(false);
  });

  it('cannot connect to a TCP server on the host loopback when it tries', async () => {
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections++;
      socket.end('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const result = await run(
        `python3 -c "import socket; s=socket.create_connection(('127.0.0.1', ${port}), timeout=2); print('connected', s.recv(5))"; echo "rc=$?"`,
      );
      expect(result.stdout).not.toContain('connected');
      expect(result.stdout).toContain('rc=1');
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it('contains a fork bomb and reports the process limit when maxProcesses is 32', async () => {
    const marker = `bomb${randomBytes(3).toString('hex')}`;
    const result = await run(`${marker}() { ${marker} | ${marker} & }; ${marker}; sleep 1`, { timeoutMs: 5000 });
    expect(result.limit).toBe('processes');
    expect(result.reason).toContain('32 processes');
    expect(hostProcessesMatching(marker)).toEqual([]);
    expect((await run('echo still fine')).stdout).toBe('still fine\n');
  }, 15_000);

  it('names the process limit too when a fork loop runs into the timeout', async () => {
    const result = await run(`python3 -c 'import os, time\nwhile True:\n  try: os.fork()\n  except OSError: time.sleep(0.01)'`, {
      timeoutMs: 1000,
    });
    expect(result.limit).toBe('timeout');
    expect(result.reason).toBe('Command timed out after 1000 ms and was killed (it had also hit the limit of 32 processes)');
    expect((await run('echo still fine')).stdout).toBe('still fine\n');
  }, 15_000);

  it('kills a 2 GB allocation and reports memory when memoryMb is 256', async () => {
    const result = await run(`python3 -c 'a = bytearray(2 * 1024**3); print("allocated")'`);
    expect(result.stdout).not.toContain('allocated');
    expect(result.limit).toBe('memory');
    expect(result.reason).toBe('The command ran out of memory (limit 256 MB) and was killed');
  }, 15_000);

  it('kills the command and its background processes when it times out', async () => {
    const marker = `${700 + Math.floor(Math.random() * 200)}.${randomBytes(2).readUInt16BE()}`;
    const result = await run(`(sleep ${marker} &); nohup sleep ${marker} >/dev/null 2>&1 & sleep 30`, { timeoutMs: 500 });
    expect(result.limit).toBe('timeout');
    expect(result.reason).toBe('Command timed out after 500 ms and was killed');
    expect(result.durationMs).toBeLessThan(3000);
    expect(hostProcessesMatching(`sleep ${marker}`)).toEqual([]);
  }, 10_000);

  it('leaves no background process behind when the command ends normally', async () => {
    const marker = `${300 + Math.floor(Math.random() * 200)}.${randomBytes(2).readUInt16BE()}`;
    const result = await run(`setsid sleep ${marker} >/dev/null 2>&1 & echo $! > pid; echo started`);
    expect(result.stdout).toBe('started\n');
    expect(result.limit).toBeUndefined();
    expect(hostProcessesMatching(`sleep ${marker}`)).toEqual([]);
  });

  it('never extends the project timeout when the caller asks for a longer one', async () => {
    const result = await run('sleep 5', { limits: { ...limits, commandTimeoutMs: 300 }, timeoutMs: 60_000 });
    expect(result.limit).toBe('timeout');
    expect(result.reason).toContain('300 ms');
  });

  it('caps 20 MB of output and kills the flood when it keeps writing', async () => {
    const result = await run('head -c 20000000 /dev/zero | tr "\\0" a; echo done >&2');
    expect(result.truncated).toBe(true);
    expect(result.stdout.length).toBe(limits.maxOutputBytes);
    expect(result.limit).toBe('output');
    expect(result.reason).toContain('1048576-byte cap');
  });

  it('truncates without stopping when output is only a little over the cap', async () => {
    const result = await run('head -c 1500000 /dev/zero | tr "\\0" b; echo finished >&2');
    expect(result.truncated).toBe(true);
    expect(result.stdout.length).toBe(limits.maxOutputBytes);
    expect(result.stderr).toBe('finished\n');
    expect(result.limit).toBeUndefined();
    expect(result.exitCode).toBe(0);
  });

  it('stops a file past maxFileSizeMb and reports it', async () => {
    const result = await run('head -c 3000000 /dev/zero > big.bin', { limits: { ...limits, maxFileSizeMb: 1 } });
    expect(result.limit).toBe('file_size');
    expect(result.reason).toContain('larger than 1 MB');
    rmSync(path.join(workspaceDir, 'big.bin'), { force: true });
  });

  it('stops a command writing past the workspace quota, then refuses the next while over it', async () => {
    const result = await run('head -c 3000000 /dev/urandom > fill.bin', { limits: { ...limits, workspaceQuotaMb: 2 } });
    expect(result.exitCode).not.toBe(0);
    expect(result.limit).toBe('quota');
    expect(result.reason).toMatch(/tried to write past the workspace quota of 2 MB .* and was stopped/);
    const spread = await run('for n in 1 2 3; do head -c 900000 /dev/urandom > part$n.bin; done', { limits: { ...limits, workspaceQuotaMb: 2 } });
    expect(spread.limit).toBe('quota');
    const refused = await run('echo should-not-run', { limits: { ...limits, workspaceQuotaMb: 2 } });
    expect(refused).toMatchObject({ exitCode: null, stdout: '', limit: 'quota' });
    expect(refused.reason).toMatch(
      /^Not run: The workspace uses .* of its 2\.0 MB quota( and is full)?\. Delete files before writing more\. Until then only plain `rm` commands run\. Largest files: (fill|part\d)\.bin \(.+\)\.$/,
    );
    // Cleaning up still works while over the quota: plain rm runs, and may not grow anything.
    const cleanup = await run('rm fill.bin', { limits: { ...limits, workspaceQuotaMb: 2 } });
    expect(cleanup).toMatchObject({ exitCode: 0 });
    expect(existsSync(path.join(workspaceDir, 'fill.bin'))).toBe(false);
    for (const file of ['fill.bin', 'part1.bin', 'part2.bin', 'part3.bin']) rmSync(path.join(workspaceDir, file), { force: true });
  });

  it('kills the command at once when the signal aborts', async () => {
    const controller = new AbortController();
    const marker = `${100 + Math.floor(Math.random() * 100)}.${randomBytes(2).readUInt16BE()}`;
    setTimeout(() => controller.abort(), 200);
    const result = await run(`sleep ${marker} & sleep 30`, { signal: controller.signal });
    expect(result.limit).toBe('cancelled');
    expect(result.durationMs).toBeLessThan(2000);
    expect(hostProcessesMatching(`sleep ${marker}`)).toEqual([]);
  });

  it('does not start the command when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await run('echo ran > ran.txt', { signal: controller.signal });
    expect(result.limit).toBe('cancelled');
    expect(existsSync(path.join(workspaceDir, 'ran.txt'))).toBe(false);
  });

  it('removes its cgroups when commands finish', async () => {
    await Promise.all([run('true'), run('sleep 0.2'), run('exit 1')]);
    expect(concierge_cgroups()).toEqual([]);
  });

  it('runs commands as the unprivileged host user when the server is root, so a setuid copy gives nothing', async () => {
    if (process.getuid?.() !== 0) {
      expect(sandbox.hostUser).toBeUndefined();
      return;
    }
    expect(sandbox.hostUser).toEqual({ uid: DEFAULT_SANDBOX_HOST_UID, gid: DEFAULT_SANDBOX_HOST_UID });
    const result = await run('cp /bin/sh suid-sh && chmod u+s,g+s suid-sh && echo ok > owned.txt && ls -ln owned.txt');
    expect(result.exitCode).toBe(0);
    for (const name of ['suid-sh', 'owned.txt']) {
      const stats = statSync(path.join(workspaceDir, name));
      expect({ uid: stats.uid, gid: stats.gid }).toEqual(sandbox.hostUser);
    }
    expect(statSync(path.join(workspaceDir, 'suid-sh')).mode & 0o4000).toBe(0o4000);
    rmSync(path.join(workspaceDir, 'suid-sh'));
    rmSync(path.join(workspaceDir, 'owned.txt'));
  });

  it('creates every command group under one parent group that holds the totals', async () => {
    if (!existsSync('/sys/fs/cgroup/pids/cgroup.procs')) return;
    const totals = sandbox.enforcement.totals;
    expect(totals?.cgroups.length).toBeGreaterThan(0);
    const pidsParent = totals?.cgroups.find((dir) => dir.includes('/pids/')) as string;
    expect(readFileSync(path.join(pidsParent, 'pids.max'), 'utf8').trim()).toBe(String(totals?.processes));
    const controller = new AbortController();
    const running = run('sleep 5', { signal: controller.signal });
    const children = () => readdirSync(pidsParent).filter((name) => name.startsWith(`concierge-${process.pid}-`));
    for (let attempt = 0; attempt < 100 && children().length === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(children()).toHaveLength(1);
    controller.abort();
    expect((await running).limit).toBe('cancelled');
    expect(children()).toEqual([]);
  });

  it('stops a command writing many files past the quota, each under the file size cap', async () => {
    const result = await run('i=0; while [ $i -lt 400 ]; do head -c 100000 /dev/urandom > part$i.bin; i=$((i+1)); done; echo finished', {
      limits: { ...limits, workspaceQuotaMb: 4 },
    });
    expect(result.limit).toBe('quota');
    expect(result.stdout).not.toContain('finished');
    const next = await run('echo ran', { limits: { ...limits, workspaceQuotaMb: 4 } });
    expect(next.stdout).toBe('');
    expect(next.reason).toMatch(/^Not run: The workspace uses .* of its 4\.0 MB quota\. Delete files/);
    execFileSync('/bin/sh', ['-c', `rm -f ${workspaceDir}/part*.bin`]);
  }, 20_000);

  it('stops a command creating entries past maxWorkspaceEntries and refuses the next one', async () => {
    // The sleep keeps the command alive after it crossed the limit: the watch, not the end of the loop, must stop it.
    const result = await run('mkdir many && cd many && i=0; while [ $i -lt 2000 ]; do : > f$i; i=$((i+1)); done; sleep 12; echo finished', {
      limits: { ...limits, maxWorkspaceEntries: 500 },
      timeoutMs: 15_000,
    });
    expect(result.limit).toBe('quota');
    expect(result.stdout).not.toContain('finished');
    const next = await run('echo ran', { limits: { ...limits, maxWorkspaceEntries: 500 } });
    expect(next.stdout).toBe('');
    expect(next.reason).toMatch(/more than 500 files and folders/);
    rmSync(path.join(workspaceDir, 'many'), { recursive: true, force: true });
  }, 20_000);

  it('refuses a workspace that does not exist', async () => {
    await expect(run('true', { workspaceDir: path.join(root, 'missing') })).rejects.toThrow(/not an existing absolute directory/);
  });
});

describe('createSandbox without bubblewrap', () => {
  it('throws SandboxUnavailableError with install instructions when bwrap is missing', async () => {
    const error = await createSandbox({ mode: 'bwrap', bwrapPath: '/nonexistent/bwrap' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SandboxUnavailableError);
    expect((error as Error).message).toContain('apt-get install bubblewrap');
    expect((error as Error).message).toContain('CONCIERGE_SANDBOX=unsafe-host');
  });

  it('throws SandboxUnavailableError when the binary cannot create a sandbox', async () => {
    const error = await createSandbox({ mode: 'bwrap', bwrapPath: '/bin/false' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SandboxUnavailableError);
    expect((error as Error).message).toContain('cannot create a sandbox');
  });
});

describe('createSandbox in unsafe-host mode', () => {
  it('warns loudly, clears the env and still enforces timeout and output cap', async () => {
    const warnings: string[] = [];
    const logger = { info: () => undefined, error: () => undefined, warn: (_fields: unknown, message: string) => warnings.push(message) };
    const sandbox = await createSandbox({ mode: 'unsafe-host', logger });
    expect(sandbox.mode).toBe('unsafe-host');
    expect(sandbox.enforcement.warnings[0]).toMatch(/NO isolation/);
    expect(warnings[0]).toMatch(/NO isolation/);
    const workspaceDir = mkdtempSync(path.join(tmpdir(), 'unsafe-test-'));
    process.env.CONCIERGE_TEST_CANARY = 'unsafe-canary';
    try {
      const env = await sandbox.run({ workspaceDir, command: 'env; pwd', env: { A: 'b' }, limits });
      expect(env.stdout).not.toContain('unsafe-canary');
      expect(env.stdout).toContain('A=b');
      expect(env.stdout).toContain(`${workspaceDir}\n`);
      const marker = `${500 + Math.floor(Math.random() * 100)}.${randomBytes(2).readUInt16BE()}`;
      const slow = await sandbox.run({ workspaceDir, command: `sleep ${marker} & sleep 30`, env: {}, limits, timeoutMs: 300 });
      expect(slow.limit).toBe('timeout');
      expect(hostProcessesMatching(`sleep ${marker}`)).toEqual([]);
      const flood = await sandbox.run({ workspaceDir, command: 'yes', env: {}, limits });
      expect(flood.limit).toBe('output');
      expect(flood.stdout.length).toBe(limits.maxOutputBytes);
    } finally {
      delete process.env.CONCIERGE_TEST_CANARY;
      rmSync(workspaceDir, { recursive: true, force: true });
    }
  });
});

describe('sandbox host facts', () => {
  it('bwrap is installed here so the escape tests ran for real', () => {
    expect(execFileSync('bwrap', ['--version']).toString()).toMatch(/bubblewrap/);
  });
});
