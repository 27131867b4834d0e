import { describe, expect, it, vi } from 'vitest';
import { createApiClient } from './api-client.ts';
import { ApiError } from './api-error.ts';
import { createTokenManager } from './token-manager.ts';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const expired = () => json(401, { success: false, error: { message: 'Token expired', code: 'INVALID_TOKEN' } });

describe('createApiClient', () => {
  it('refreshes the token once after a 401 and retries the request once', async () => {
    const fetchToken = vi.fn(async () => 'eyJnew');
    const fetch = vi
      .fn<typeof globalThis.fetch>()
      .mockResolvedValueOnce(expired())
      .mockResolvedValueOnce(json(200, { success: true, data: { id: 't1', status: 'pending' } }));
    const api = createApiClient({ host: 'https://c.test', tokens: createTokenManager({ token: 'eyJold', fetchToken }), fetch });
    await expect(api.createTask('Hi', [])).resolves.toEqual({ id: 't1', status: 'pending' });
    expect(fetchToken).toHaveBeenCalledTimes(1);
    const auth = fetch.mock.calls.map(([, init]) => new Headers(init?.headers).get('Authorization'));
    expect(auth).toEqual(['Bearer eyJold', 'Bearer eyJnew']);
    expect(fetch.mock.calls[0]![0]).toBe('https://c.test/api/v1/tasks');
  });

  it('gives up after the one retry and reports the server error', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(async () => expired());
    const api = createApiClient({
      host: 'https://c.test',
      tokens: createTokenManager({ token: 'eyJold', fetchToken: async () => 'eyJnew' }),
      fetch,
    });
    const error = await api.getTask('t1').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'INVALID_TOKEN', status: 401 });
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('sends files as multipart with message and files fields', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(async () => json(200, { success: true, data: { status: 'running' } }));
    const api = createApiClient({ host: 'https://c.test', tokens: createTokenManager({ token: 'eyJa' }), fetch });
    await api.followUp('t1', 'see file', [new File(['x'], 'a.txt')]);
    const body = fetch.mock.calls[0]![1]!.body as FormData;
    expect(body.get('message')).toBe('see file');
    expect((body.getAll('files')[0] as File).name).toBe('a.txt');
  });

  it('turns a network failure into NETWORK_ERROR', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(async () => Promise.reject(new TypeError('Failed to fetch')));
    const api = createApiClient({ host: 'https://c.test', tokens: createTokenManager({ token: 'eyJa' }), fetch });
    await expect(api.cancel('t1')).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
  });
});
