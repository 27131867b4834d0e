import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { expectServerStillWorks, hostProcessesMatching, runToolTask, shellOutput, toolResultsSentToModel } from './agent-harness.ts';

// The agent's shell, driven through the real server process, HTTP API, agent loop and fake model: each
// hostile command must be contained, reported to the model and the user, and leave the server serving.

const TIMEOUT_MS = 3000;
const ENV_CANARY = `env-canary-${randomBytes(12).toString('hex')}`;

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;
/** Outside /tmp on purpose: the sandbox's private /tmp must not be what hides it. */
let dataDir: string;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join('/var/tmp', 'concierge-escape-'));
  fake = await startFakeModel();
  server = await spawnConcierge({
    llmBaseUrl: fake.url,
    env: { CONCIERGE_DATA_DIR: dataDir, CONCIERGE_ESCAPE_CANARY: ENV_CANARY, LOG_LEVEL: 'info' },
  });
  const projectFile = path.join(dataDir, '..', `${path.basename(dataDir)}.projects.json`);
  await fs.writeFile(projectFile, JSON.stringify({ projects: { default: { sandbox: { maxProcesses: 32, memoryMb: 256, commandTimeoutMs: TIMEOUT_MS } } } }));
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
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

const shell = (command: string) => ({ name: 'run_shell_command' as const, args: { command } });

const rand = () => randomBytes(4).toString('hex');

describe('run_shell_command through the agent', () => {
  it('reports permission denied when the model reads /etc/shadow', async () => {
    const run = await runToolTask(api, fake, 'shadow', [shell('cat /etc/shadow'), shell('cat /etc/gshadow'), shell('ls -A /etc/ssl/private')]);
    expect(run.task.status).toBe('completed');
    expect(run.results).toEqual([
      expect.objectContaining({ status: 'error', output: shellOutput(1, '', 'cat: /etc/shadow: Permission denied') }),
      expect.objectContaining({ status: 'error', output: shellOutput(1, '', 'cat: /etc/gshadow: Permission denied') }),
      // Owner-only directories under /etc are masked by an empty tmpfs.
      expect.objectContaining({ status: 'success', output: shellOutput(0, '') }),
    ]);
    for (const result of run.results) expect(result.output).not.toMatch(/root:[^:\n]*:\d+:/);
    await expectServerStillWorks(server.url, api, fake);
  });

  it('finds no data directory when the model reads the server database by its host path', async () => {
    const run = await runToolTask(api, fake, 'datadir', [shell(`cat ${dataDir}/concierge.db; ls ${dataDir}`)]);
    expect(run.results).toEqual([
      expect.objectContaining({
        status: 'error',
        output: shellOutput(2, '', `cat: ${dataDir}/concierge.db: No such file or directory\nls: cannot access '${dataDir}': No such file or directory`),
      }),
    ]);
    expect(existsSync(path.join(dataDir, 'concierge.db'))).toBe(true);
    await expectServerStillWorks(server.url, api, fake);
  });

  it('finds no /root when the model lists it', async () => {
    const run = await runToolTask(api, fake, 'root', [shell('ls -a /root'), { name: 'read_file', args: { path: '/root/.bashrc' } }]);
    expect(run.results).toEqual([
      expect.objectContaining({ toolName: 'run_shell_command', status: 'error', output: shellOutput(2, '', "ls: cannot access '/root': No such file or directory") }),
      expect.objectContaining({ toolName: 'read_file', status: 'error', output: '"/root/.bashrc" is outside the workspace; use a path like downloads/file.txt.' }),
    ]);
    await expectServerStillWorks(server.url, api, fake);
  });

  it("cannot see another task's workspace when the model probes its host path and ../ paths", async () => {
    const secret = `private-${rand()}`;
    const taskA = await runToolTask(api, fake, 'ws-a', [shell(`echo ${secret} > downloads/private.txt`)]);
    expect(taskA.results[0]?.status).toBe('success');
    const hostWorkspaceA = path.join(dataDir, 'workspaces', taskA.taskId);
    expect(readFileSync(path.join(hostWorkspaceA, 'downloads/private.txt'), 'utf8')).toBe(`${secret}\n`);

    const a = taskA.taskId;
    const run = await runToolTask(api, fake, 'ws-b', [
      shell(`ls ${hostWorkspaceA}; cat ${hostWorkspaceA}/downloads/private.txt`),
      shell(`ls ../${a}; cat ../${a}/downloads/private.txt; cat /workspace/../${a}/downloads/private.txt`),
      shell('ls /workspace/..; ls ..'),
      { name: 'read_file', args: { path: `../${a}/downloads/private.txt` } },
      { name: 'read_file', args: { path: `${hostWorkspaceA}/downloads/private.txt` } },
      { name: 'list_directory', args: { path: '..' } },
    ]);
    expect(run.task.status).toBe('completed');
    const [hostPath, relative, parent, readRelative, readHost, listParent] = run.results;
    expect(hostPath).toMatchObject({
      status: 'error',
      output: shellOutput(
        1,
        '',
        `ls: cannot access '${hostWorkspaceA}': No such file or directory\ncat: ${hostWorkspaceA}/downloads/private.txt: No such file or directory`,
      ),
    });
    expect(relative).toMatchObject({
      status: 'error',
      output: shellOutput(
        1,
        '',
        `ls: cannot access '../${a}': No such file or directory\ncat: ../${a}/downloads/private.txt: No such file or directory\ncat: /workspace/../${a}/downloads/private.txt: No such file or directory`,
      ),
    });
    // The sandbox root holds system dirs and this task's /workspace, nothing of other tasks.
    expect(parent?.status).toBe('success');
    expect(parent?.output).not.toContain(a);
    expect(parent?.output).toContain('workspace');
    expect(readRelative).toMatchObject({ status: 'error', output: `"../${a}/downloads/private.txt" is outside the workspace.` });
    expect(readHost).toMatchObject({ status: 'error', output: `"${hostWorkspaceA}/downloads/private.txt" is outside the workspace; use a path like downloads/file.txt.` });
    expect(listParent).toMatchObject({ status: 'error', output: '".." is outside the workspace.' });
    for (const result of run.results) expect(result.output).not.toContain(secret);
    await expectServerStillWorks(server.url, api, fake);
  });

  it('refuses writes outside /workspace when the model writes to /etc, /usr and /', async () => {
    const marker = `escape-${rand()}`;
    const run = await runToolTask(api, fake, 'write-out', [shell(`echo x > /etc/${marker}; echo x > /usr/${marker}; echo x > /${marker}; echo x > /workspace/downloads/${marker}`)]);
    expect(run.results).toEqual([
      expect.objectContaining({
        status: 'success',
        output: shellOutput(
          0,
          '',
          [`/etc/${marker}`, `/usr/${marker}`, `/${marker}`].map((target) => `/bin/sh: 1: cannot create ${target}: Read-only file system`).join('\n'),
        ),
      }),
    ]);
    for (const dir of ['/etc', '/usr', '/']) expect(existsSync(path.join(dir, marker))).toBe(false);
    expect(existsSync(path.join(dataDir, 'workspaces', run.taskId, 'downloads', marker))).toBe(true);
    await expectServerStillWorks(server.url, api, fake);
  });

  it('cannot reach a TCP server on the host, by 127.0.0.1 or its LAN address, when the model connects', async () => {
    let connections = 0;
    const listener: Server = createServer((socket) => {
      connections += 1;
      socket.end('hello');
    });
    // Every interface: a connection over the sandbox's own loopback or any route to the host would count.
    await new Promise<void>((resolve) => listener.listen(0, '0.0.0.0', resolve));
    const port = (listener.address() as { port: number }).port;
    const apiPort = new URL(server.url).port;
    const lanAddress = Object.values(os.networkInterfaces())
      .flat()
      .find((address) => address?.family === 'IPv4' && !address.internal)?.address;
    const devTcp = (host: string, target: string | number) => shell(`bash -c 'echo hi > /dev/tcp/${host}/${target}'; echo "rc=$?"`);
    // The sandbox has its own network namespace: its loopback is empty (refused) and it has no route out (unreachable).
    const refused = (host: string, target: string | number) =>
      shellOutput(0, 'rc=1', `bash: connect: Connection refused\nbash: line 1: /dev/tcp/${host}/${target}: Connection refused`);
    try {
      const steps = [
        devTcp('127.0.0.1', port),
        shell(`python3 -c "import socket; s=socket.create_connection(('127.0.0.1', ${port}), timeout=2); print('connected', s.recv(5))" 2>&1 | tail -1`),
        devTcp('127.0.0.1', apiPort),
        ...(lanAddress ? [devTcp(lanAddress, port)] : []),
      ];
      const run = await runToolTask(api, fake, 'tcp', steps);
      expect(run.results.map((result) => result.output)).toEqual([
        refused('127.0.0.1', port),
        shellOutput(0, 'ConnectionRefusedError: [Errno 111] Connection refused'),
        refused('127.0.0.1', apiPort),
        ...(lanAddress
          ? [shellOutput(0, 'rc=1', `bash: connect: Network is unreachable\nbash: line 1: /dev/tcp/${lanAddress}/${port}: Network is unreachable`)]
          : []),
      ]);
      expect(connections).toBe(0);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
    await expectServerStillWorks(server.url, api, fake);
  });

  it('stops a fork bomb at 32 processes and reports the limit when the model runs one', async () => {
    const bomb = `bomb${rand()}`;
    const run = await runToolTask(api, fake, 'forkbomb', [shell(`${bomb}() { ${bomb} | ${bomb} & }; ${bomb}; sleep 1`)]);
    expect(run.task.status).toBe('completed');
    const [result] = run.results;
    expect(result?.status).toBe('error');
    expect(result?.output).toContain('Stopped by a limit (processes): The command hit the limit of 32 processes; creating more processes failed');
    expect(toolResultsSentToModel(fake, run.marker)).toEqual([result?.output]);
    expect(hostProcessesMatching(bomb)).toEqual([]);
    await expectServerStillWorks(server.url, api, fake);
  });

  it('kills a 2 GB allocation and reports the memory limit when the model runs one', async () => {
    const run = await runToolTask(api, fake, 'memory', [shell(`python3 -c 'a = bytearray(2 * 1024**3); print("allocated")'`)]);
    expect(run.results).toEqual([
      expect.objectContaining({
        status: 'error',
        output: shellOutput(137, '', 'Killed', { limit: 'Stopped by a limit (memory): The command ran out of memory (limit 256 MB) and was killed' }),
      }),
    ]);
    expect(toolResultsSentToModel(fake, run.marker)).toEqual([run.results[0]?.output]);
    await expectServerStillWorks(server.url, api, fake);
  });

  it('kills a command at the project timeout and reports it when the model sleeps too long', async () => {
    const started = Date.now();
    const duration = `30.${randomBytes(2).readUInt16BE()}1`;
    const run = await runToolTask(api, fake, 'timeout', [shell(`echo started; sleep ${duration}; echo late`)]);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.results).toEqual([
      expect.objectContaining({
        status: 'error',
        output: shellOutput('none (killed by SIGKILL)', 'started', '', { limit: `Stopped by a limit (timeout): Command timed out after ${TIMEOUT_MS} ms and was killed` }),
      }),
    ]);
    expect(toolResultsSentToModel(fake, run.marker)).toEqual([run.results[0]?.output]);
    expect(hostProcessesMatching(`sleep ${duration}`)).toEqual([]);
    await expectServerStillWorks(server.url, api, fake);
  });

  it('leaves no background process on the host when the model starts one that tries to outlive its command', async () => {
    const plain = `300.${randomBytes(2).readUInt16BE()}1`;
    const detached = `301.${randomBytes(2).readUInt16BE()}1`;
    const run = await runToolTask(api, fake, 'background', [
      shell(`sleep ${plain} & echo $!`),
      shell(`setsid nohup sleep ${detached} >/dev/null 2>&1 & echo started`),
    ]);
    expect(run.results[0]).toMatchObject({ status: 'success', output: expect.stringMatching(/^Exit code: 0\n--- stdout ---\n\d+\n--- stderr ---\n$/) });
    expect(run.results[1]).toMatchObject({ status: 'success', output: shellOutput(0, 'started') });
    expect(hostProcessesMatching(`sleep ${plain}`)).toEqual([]);
    expect(hostProcessesMatching(`sleep ${detached}`)).toEqual([]);
    await expectServerStillWorks(server.url, api, fake);
  });

  it('caps 20 MB of output and reports the cap when the model floods stdout', async () => {
    const run = await runToolTask(api, fake, 'flood', [shell(`head -c 20000000 /dev/zero | tr '\\0' a`)]);
    const [result] = run.results;
    const cap = 1_048_576;
    expect(result?.status).toBe('error');
    // The command's capped megabyte, of which the turn keeps the head and the end (256 KB in all).
    expect(result?.output).toMatch(
      new RegExp(
        `^Exit code: [^\\n]+\\nStopped by a limit \\(output\\): The command kept writing output far past the ${cap}-byte cap \\(\\d+ bytes\\) and was killed\\n--- stdout ---\\na+\\n\\[… \\d+ more characters not kept\\. [^\\]]+\\]\\na+\\n--- stderr ---\\n\\n\\(output truncated to the first ${cap} bytes of each stream\\)$`,
      ),
    );
    expect(result?.output.length).toBeLessThanOrEqual(256 * 1024);
    // The model gets the same capped text, not 20 MB.
    expect(toolResultsSentToModel(fake, run.marker)).toEqual([result?.output]);
    await expectServerStillWorks(server.url, api, fake);
  });

  it('refuses to follow links made in the shell when the model uses them with read_file and write_file', async () => {
    const marker = `escape-${rand()}`;
    const passwd = readFileSync('/etc/passwd');
    const run = await runToolTask(api, fake, 'symlink', [
      shell('ln -s /etc/passwd /workspace/link; ln -s / /workspace/root; rm -r downloads; ln -s /etc downloads; ls'),
      { name: 'read_file', args: { path: 'link' } },
      { name: 'read_file', args: { path: '/workspace/root/etc/passwd' } },
      { name: 'write_file', args: { path: 'link', content: 'pwned' } },
      { name: 'write_file', args: { path: `root/etc/${marker}`, content: 'pwned' } },
      { name: 'write_file', args: { path: `downloads/${marker}`, content: 'pwned' } },
      { name: 'list_directory', args: { path: 'root' } },
    ]);
    expect(run.task.status).toBe('completed');
    expect(run.results.map((result) => [result.toolName, result.status, result.output])).toEqual([
      ['run_shell_command', 'success', shellOutput(0, 'downloads\nlink\nroot\nuploads')],
      ['read_file', 'error', '"link" goes through a symbolic link, which file tools do not follow.'],
      ['read_file', 'error', '"/workspace/root/etc/passwd" goes through a symbolic link, which file tools do not follow.'],
      ['write_file', 'error', '"link" goes through a symbolic link, which file tools do not follow.'],
      ['write_file', 'error', `"root/etc/${marker}" goes through a symbolic link, which file tools do not follow.`],
      ['write_file', 'error', `"downloads/${marker}" goes through a symbolic link, which file tools do not follow.`],
      ['list_directory', 'error', '"root" goes through a symbolic link, which file tools do not follow.'],
    ]);
    expect(readFileSync('/etc/passwd').equals(passwd)).toBe(true);
    expect(existsSync(`/etc/${marker}`)).toBe(false);
    // Links are neither listed nor downloadable as artifacts.
    const artifacts = await api.call('GET', `/tasks/${run.taskId}/artifacts`);
    expect(artifacts.body.data.files).toEqual([]);
    const download = await api.call('GET', `/tasks/${run.taskId}/artifacts/download?path=link`);
    expect(download.status).toBe(404);
    await expectServerStillWorks(server.url, api, fake);
  });

  it("shows none of the server's environment when the model runs env", async () => {
    expect(server.process.pid).toBeGreaterThan(0);
    expect(readFileSync(`/proc/${server.process.pid}/environ`, 'utf8')).toContain(ENV_CANARY);
    const run = await runToolTask(api, fake, 'env', [shell('env | cut -d= -f1 | sort'), shell("cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | cut -d= -f1 | sort -u")]);
    expect(run.results[0]).toMatchObject({ status: 'success', output: shellOutput(0, 'HOME\nLANG\nPATH\nPWD') });
    expect(run.results[1]?.output).not.toContain('CONCIERGE');
    for (const result of run.results) expect(result.output).not.toContain(ENV_CANARY);
    await expectServerStillWorks(server.url, api, fake);
  });
});
