import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useApiServer } from '../support/use-api-server.ts';

const ctx = useApiServer();
const CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'clients', 'sigmic_python_client.py');

const CLIENT_TIMEOUT_MS = 40_000;

type Step = { step: string; [field: string]: any };

/** Runs the docs-style Python client against the server; `-S` hides site packages, so requests is absent. */
function runPythonClient(withoutRequests: boolean): Promise<Step[]> {
  return new Promise((resolve, reject) => {
    const args = [...(withoutRequests ? ['-S'] : []), CLIENT];
    const child = spawn('python3', args, { env: { ...process.env, SIGMIC_API_KEY: ctx.api.auth.authorization.slice('Bearer '.length), SIGMIC_BASE_URL: ctx.server.url } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    // A client that waits forever (a stream that never ends) fails with what it printed so far.
    const watchdog = setTimeout(() => child.kill('SIGKILL'), CLIENT_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(watchdog);
      if (code !== 0) return reject(new Error(`python3 client exited ${code}:\n${stderr}\n${stdout}\nserver log:\n${ctx.server.lines.slice(-15).join('\n')}`));
      resolve(stdout.trim().split('\n').map((line) => JSON.parse(line) as Step));
    });
  });
}

describe.each([
  { library: 'requests', withoutRequests: false },
  { library: 'urllib', withoutRequests: true },
])('the Sigmic docs Python client ($library)', ({ library, withoutRequests }) => {
  it('creates by form and JSON, approves, follows up and reads history and artifacts, unchanged', { timeout: 60_000 }, async () => {
    const steps = await runPythonClient(withoutRequests);
    const step = (name: string) => steps.filter((entry) => entry.step === name);
    expect(step('client')[0]).toEqual({ step: 'client', library });
    // autoExecute=str(False) over a urlencoded form asks before the write.
    // One approval for the write, one for the follow-up's listing (the task keeps autoExecute=false).
    expect(step('approve')).toHaveLength(2);
    for (const approval of step('approve')) expect(approval.result).toEqual({ success: true, data: { approved: true } });
    const streamed = step('streamed')[0]!;
    expect(streamed.finalResponse).toContain('downloads/report.md');
    expect(streamed.events).toContain('tool_result');
    expect(step('follow_up')[0]!.result).toEqual({ success: true, data: { status: 'running' } });
    const followed = step('follow_up_streamed')[0]!;
    const lastAnswer: string = followed.finalResponse ?? followed.history.at(-1).content;
    expect(lastAnswer).toMatch(/workspace/i);
    const messages = step('history')[0]!.messages as Array<[string, string]>;
    expect(messages.map(([role]) => role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(messages[0]).toEqual(['user', 'write a report']);
    expect(messages[2]).toEqual(['user', 'list files']);
    expect(step('artifacts')[0]!.files).toContain('downloads/report.md');
    expect(step('download')[0]!.length).toBeGreaterThan(0);
    const created = step('created');
    expect(created.map((entry) => entry.via)).toEqual(['form', 'json']);
    expect(created[1]!.answer).toMatch(/\S/);
  });
});

describe('POST /tasks with a urlencoded form', () => {
  it('reads autoExecute "False" and "True" as booleans and refuses other words', async () => {
    const form = (fields: Record<string, string>) => ({ body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    for (const [value, expected] of [['False', false], ['false', false], ['True', true]] as const) {
      const { body, headers } = form({ message: 'hello', autoExecute: value });
      const created = await ctx.api.call('POST', '/tasks', body, headers);
      expect(created.status).toBe(200);
      expect((await ctx.api.getTask(created.body.data.id)).autoExecute).toBe(expected);
    }
    const { body, headers } = form({ message: 'hello', autoExecute: 'maybe' });
    const refused = await ctx.api.call('POST', '/tasks', body, headers);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ success: false, error: { code: 'VALIDATION_ERROR', message: expect.stringContaining('autoExecute') } });
  });
});
