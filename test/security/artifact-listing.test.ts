import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, createApiClient } from '../support/api-client.ts';
import { type FakeModel, startFakeModel } from '../support/fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from '../support/spawn-concierge.ts';
import { runToolTask } from './agent-harness.ts';

// Red team: a workspace within every limit (9,000 files in 60 nested folders of 250-character names)
// made each artifact listing 137 MB of JSON, and 40 listings at once took the server's heap. Listings
// now leave out paths over 1,024 characters and stop, marked `truncated`, at 2 MB of paths.

let fake: FakeModel;
let server: SpawnedConcierge;
let api: ApiClient;

beforeAll(async () => {
  fake = await startFakeModel();
  server = await spawnConcierge({ llmBaseUrl: fake.url, env: { LOG_LEVEL: 'info' } });
  api = createApiClient(server.url, (await server.createApiKey()).key);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

const python = (source: string) => ({ name: 'run_shell_command' as const, args: { command: `python3 -c "${source}"` } });

describe('artifact listings of hostile workspaces', () => {
  it('leave out paths too long to be useful, and stay small however many long paths there are', async () => {
    const run = await runToolTask(api, fake, 'long-paths', [
      // 15 folders of 200 characters: 3,000-character paths.
      python("import os; d='/'.join(['d'*200]*15); os.makedirs(d); [open(d+'/f%d'%i,'w').close() for i in range(300)]; print('deep done')"),
      // 3,000 files under 4 folders of 200 characters: about 2.5 MB of paths.
      python("import os; d='/'.join(['w'*200]*4); os.makedirs(d); [open(d+'/file-%05d.txt'%i,'w').close() for i in range(3000)]; open('downloads/report.txt','w').write('r'); print('wide done')"),
    ]);
    expect(run.results.map((result) => result.output.startsWith('Exit code: 0'))).toEqual([true, true]);
    const listing = await api.call('GET', `/tasks/${run.taskId}/artifacts`);
    expect(listing.status).toBe(200);
    const files = listing.body.data.files as { path: string }[];
    expect(files.some((file) => file.path.startsWith('ddd'))).toBe(false);
    expect(listing.body.data.truncated).toBe(true);
    expect(files.length).toBeGreaterThan(1000);
    expect(files.length).toBeLessThan(3000);
    expect(JSON.stringify(listing.body).length).toBeLessThan(3 * 1024 * 1024);
    // A short listing says nothing of truncation.
    const small = await runToolTask(api, fake, 'small', [python("open('downloads/a.txt','w').write('a'); print('small done')")]);
    const smallListing = await api.call('GET', `/tasks/${small.taskId}/artifacts`);
    expect(smallListing.body.data).toEqual({ files: [expect.objectContaining({ path: 'downloads/a.txt' })] });
  });
});
