import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AppError } from '../../errors/app-error.ts';
import type { ApiKeysRepository } from '../../store/api-keys-repository.ts';
import type { ProjectsRepository } from '../../store/projects-repository.ts';
import { parseDuration } from '../duration.ts';

export const API_KEY_PATTERN = /^ck_[0-9a-f]{64}$/;

/** SHA-256 is enough here: keys are 256 random bits, so there is nothing to brute-force. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export interface ApiKeyPrincipal {
  apiKeyId: string;
  project: string;
  name: string;
}

/** Creating, verifying and revoking API keys (`ck_` + 64 hex, stored hashed, shown once). */
export function createApiKeysService(deps: { apiKeys: ApiKeysRepository; projects: ProjectsRepository }) {
  return {
    async create(input: { project: string; name?: string; expiresIn?: string }): Promise<{ id: string; key: string; project: string; expiresAt: string | null }> {
      let expiresAt: string | null = null;
      if (input.expiresIn !== undefined) {
        const ms = parseDuration(input.expiresIn);
        if (ms === undefined) throw new AppError('VALIDATION_ERROR', `--expires-in must look like 30m, 12h or 30d, got "${input.expiresIn}"`);
        expiresAt = new Date(Date.now() + ms).toISOString();
      }
      await deps.projects.ensure(input.project);
      const key = `ck_${randomBytes(32).toString('hex')}`;
      const id = randomUUID();
      await deps.apiKeys.insert({
        id,
        project: input.project,
        name: input.name ?? 'default',
        key_hash: hashApiKey(key),
        key_prefix: key.slice(0, 10),
        created_at: new Date().toISOString(),
        expires_at: expiresAt,
        revoked_at: null,
        last_used_at: null,
      });
      return { id, key, project: input.project, expiresAt };
    },

    /** Resolves a presented key; throws INVALID_API_KEY for malformed, unknown, revoked or expired keys. */
    async verify(key: string): Promise<ApiKeyPrincipal> {
      if (!API_KEY_PATTERN.test(key)) throw new AppError('INVALID_API_KEY', 'The API key is malformed: expected ck_ followed by 64 hex characters');
      const row = await deps.apiKeys.findByHash(hashApiKey(key));
      if (!row || row.revoked_at) throw new AppError('INVALID_API_KEY', 'The API key is invalid or has been revoked');
      const now = new Date();
      if (row.expires_at && new Date(row.expires_at) <= now) throw new AppError('INVALID_API_KEY', 'The API key has expired');
      return { apiKeyId: row.id, project: row.project, name: row.name };
    },

    async revoke(id: string): Promise<void> {
      if (!(await deps.apiKeys.revoke(id))) throw new AppError('NOT_FOUND', `No API key with id ${id}`);
    },
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
