import { afterAll, beforeAll } from 'vitest';
import { type ApiClient, createApiClient } from './api-client.ts';
import { type FakeModel, startFakeModel } from './fake-model.ts';
import { type SpawnedConcierge, spawnConcierge } from './spawn-concierge.ts';

/** What a suite gets from `useApiServer`: set once its `beforeAll` has run. */
export interface ApiServerContext {
  fake: FakeModel;
  server: SpawnedConcierge;
  api: ApiClient;
}

/**
 * Starts a fake model and a `concierge serve` process talking to it for the calling suite, with an
 * API key of project `default`, and stops both after the suite.
 */
export function useApiServer(options: { env?: Record<string, string> } = {}): ApiServerContext {
  const context = {} as ApiServerContext;
  beforeAll(async () => {
    context.fake = await startFakeModel();
    context.server = await spawnConcierge({ llmBaseUrl: context.fake.url, ...(options.env ? { env: options.env } : {}) });
    context.api = createApiClient(context.server.url, (await context.server.createApiKey()).key);
  });
  afterAll(async () => {
    await context.server?.stop();
    await context.fake?.close();
  });
  return context;
}
