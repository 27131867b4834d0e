import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, request } from '../support/api-client.ts';
import { type CliResult, type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';

let server: SpawnedConcierge;

beforeAll(async () => {
  server = await spawnConcierge({ env: { CONCIERGE_MODEL: 'scripted:fast' } });
});

afterAll(async () => {
  await server?.stop();
});

/** Parses stdout that must hold exactly one JSON object and nothing else. */
function parseOnlyJson(result: CliResult): Record<string, unknown> {
  expect(result.stdout.endsWith('\n')).toBe(true);
  expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
  const parsed: unknown = JSON.parse(result.stdout);
  expect(parsed).toBeTypeOf('object');
  expect(Array.isArray(parsed)).toBe(false);
  return parsed as Record<string, unknown>;
}

/** Exit 1: nothing on stdout, one line on stderr. */
function expectFailure(result: CliResult, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr.trimEnd().split('\n'), result.stderr).toHaveLength(1);
  expect(result.stderr).toMatch(pattern);
}

async function writeFile(name: string, content: string): Promise<string> {
  const file = path.join(server.dataDir, name);
  await fs.writeFile(file, content);
  return file;
}

describe('concierge CLI', () => {
  it('prints exactly {id, key, project} and exits 0 when keys create runs with --json', async () => {
    const result = await server.cli(['keys', 'create', '--project', 'cli-json', '--name', 'ci', '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const created = parseOnlyJson(result);
    expect(created).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), key: expect.stringMatching(/^ck_[0-9a-f]{64}$/), project: 'cli-json' });
    // The key works against the running server, for its project.
    const list = await request(`${server.url}/api/v1/tasks`, { headers: { authorization: `Bearer ${created.key}` } });
    expect(list.status).toBe(200);
  });

  it('prints the key for a person and exits 0 when keys create runs without --json', async () => {
    const result = await server.cli(['keys', 'create', '--project', 'cli-text']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ck_[0-9a-f]{64}/);
    expect(() => JSON.parse(result.stdout)).toThrow();
  });

  it('prints {id, revoked: true} and the key stops working when keys revoke runs with --json', async () => {
    const created = await server.createApiKey('cli-revoke');
    const result = await server.cli(['keys', 'revoke', created.id, '--json']);
    expect(result.code).toBe(0);
    expect(parseOnlyJson(result)).toEqual({ id: created.id, revoked: true });
    const response = await request(`${server.url}/api/v1/tasks`, { headers: { authorization: `Bearer ${created.key}` } });
    expect(response.body.error.code).toBe('INVALID_API_KEY');
  });

  it('exits 1 with a one-line message when keys revoke names an unknown key', async () => {
    expectFailure(await server.cli(['keys', 'revoke', '00000000-0000-4000-8000-000000000000', '--json']), /00000000-0000-4000-8000-000000000000/);
  });

  it('exits 1 with a one-line message when --expires-in is malformed', async () => {
    expectFailure(await server.cli(['keys', 'create', '--project', 'p', '--expires-in', 'soon', '--json']), /expires-in/);
  });

  it('applies the projects and prints {projects} when projects apply runs with --json', async () => {
    const file = await writeFile(
      'cli-projects.json',
      JSON.stringify({ projects: { alpha: { toolPolicies: { run_shell_command: 'deny' } }, beta: { systemPrompt: 'Be kind.', autoExecute: false } } }),
    );
    const result = await server.cli(['projects', 'apply', file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(parseOnlyJson(result)).toEqual({ projects: ['alpha', 'beta'] });
    // Applying the same file again updates in place.
    expect((await server.cli(['projects', 'apply', file, '--json'])).code).toBe(0);
    // beta's autoExecute=false is the default for its tasks.
    const beta = createApiClient(server.url, (await server.createApiKey('beta')).key);
    const id = await beta.createTask({ message: 'hello' });
    expect((await beta.getTask(id)).autoExecute).toBe(false);
  });

  it('exits 1 with a one-line message when the project file is missing, not JSON or invalid', async () => {
    // The file's fault, said as such: not an "unexpected error" that reads like a bug of ours.
    expectFailure(await server.cli(['projects', 'apply', path.join(server.dataDir, 'nope.json'), '--json']), /^concierge: Cannot read project file \S*nope\.json: ENOENT/);
    expectFailure(await server.cli(['projects', 'apply', await writeFile('broken.json', '{"projects": '), '--json']), /broken\.json/);
    const invalid = await writeFile('invalid.json', JSON.stringify({ projects: { alpha: { toolPolicies: { run_shell_command: 'sometimes' } } } }));
    expectFailure(await server.cli(['projects', 'apply', invalid, '--json']), /toolPolicies\.run_shell_command/);
  });

  it('exits 2 with the usage when the command line is wrong', async () => {
    const cases = [[], ['frobnicate'], ['keys', 'create'], ['keys', 'rotate'], ['projects', 'apply'], ['keys', 'create', '--project', 'p', '--bogus']];
    const results = await Promise.all(cases.map((args) => server.cli(args)));
    results.forEach((result, index) => {
      expect(result.code, `concierge ${cases[index]!.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stdout + result.stderr).toMatch(/Usage: concierge/);
    });
    // Only `concierge` with nothing prints the usage on stdout; every other mistake goes to stderr.
    for (const result of results.slice(1)) expect(result.stdout).toBe('');
  });

  it('prints the usage and exits 0 when asked for help', async () => {
    const result = await server.cli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: concierge/);
  });

  it('exits 1 with a one-line message naming the variable when the environment is invalid', async () => {
    const results = await Promise.all([
      server.cli(['keys', 'create', '--project', 'p', '--json'], { CONCIERGE_SANDBOX: 'none' }),
      server.cli(['serve'], { PORT: 'eighty' }),
      server.cli(['serve'], { LOG_LEVEL: 'chatty' }),
    ]);
    expectFailure(results[0]!, /CONCIERGE_SANDBOX/);
    expectFailure(results[1]!, /PORT/);
    expectFailure(results[2]!, /LOG_LEVEL/);
  });

  it('exits 0 after draining when serve receives SIGTERM', async () => {
    await server.kill('SIGTERM');
    expect(server.process.exitCode).toBe(0);
    expect(server.lines.some((line) => line.includes('shutting down'))).toBe(true);
    await server.restart();
  });
});
