import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../errors/app-error.ts';
import type { ProjectsRepository } from '../../store/projects-repository.ts';
import type { WidgetAppRow, WidgetAppsRepository } from '../../store/widget-apps-repository.ts';
import { parseOriginPattern } from './origin-pattern.ts';

export const APP_ID_PATTERN = /^app_[0-9a-f]{24}$/;
export const APP_SECRET_PATTERN = /^cs_[0-9a-f]{64}$/;
const MAX_NAME_CHARS = 100;
const MAX_ORIGINS = 50;

/** A widget app as the rest of the server sees it (never the secret or its hash). */
export interface WidgetApp {
  id: string;
  project: string;
  name: string;
  origins: string[];
  createdAt: string;
}

/** SHA-256 is enough: app secrets are 256 random bits, so there is nothing to brute-force. */
export function hashAppSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function toWidgetApp(row: WidgetAppRow): WidgetApp {
  return { id: row.id, project: row.project, name: row.name, origins: JSON.parse(row.origins) as string[], createdAt: row.created_at };
}

function parseOrigins(requested: readonly string[]): string[] {
  if (requested.length === 0) throw new AppError('VALIDATION_ERROR', 'A widget app needs at least one allowed origin, e.g. --origin https://shop.example.com');
  if (requested.length > MAX_ORIGINS) throw new AppError('VALIDATION_ERROR', `A widget app may have at most ${MAX_ORIGINS} origins`);
  return [...new Set(requested.map(parseOriginPattern))];
}

/** Registering widget apps (`app_…` id, `cs_…` secret shown once and stored hashed) and checking their credentials. */
export function createWidgetAppsService(deps: { apps: WidgetAppsRepository; projects: ProjectsRepository; onChange?: () => void }) {
  return {
    async create(input: { project: string; name: string; origins: readonly string[] }): Promise<WidgetApp & { secret: string }> {
      const name = input.name.trim();
      if (name === '' || name.length > MAX_NAME_CHARS) throw new AppError('VALIDATION_ERROR', `The app name must be 1 to ${MAX_NAME_CHARS} characters`);
      const origins = parseOrigins(input.origins);
      await deps.projects.ensure(input.project);
      const id = `app_${randomBytes(12).toString('hex')}`;
      const secret = `cs_${randomBytes(32).toString('hex')}`;
      const createdAt = new Date().toISOString();
      await deps.apps.insert({
        id,
        project: input.project,
        name,
        secret_hash: hashAppSecret(secret),
        origins: JSON.stringify(origins),
        created_at: createdAt,
        revoked_at: null,
      });
      deps.onChange?.();
      return { id, project: input.project, name, origins, createdAt, secret };
    },

    /** The active app with this id, or undefined when unknown or revoked. */
    async find(id: string): Promise<WidgetApp | undefined> {
      if (!APP_ID_PATTERN.test(id)) return undefined;
      const row = await deps.apps.find(id);
      return row && !row.revoked_at ? toWidgetApp(row) : undefined;
    },

    /** Resolves an app from its id and secret; throws INVALID_CREDENTIALS for anything that does not match. */
    async verifyCredentials(appId: string, appSecret: string): Promise<WidgetApp> {
      const row = APP_ID_PATTERN.test(appId) && APP_SECRET_PATTERN.test(appSecret) ? await deps.apps.find(appId) : undefined;
      const expected = Buffer.from(row?.secret_hash ?? '0'.repeat(64), 'hex');
      const matches = timingSafeEqual(expected, Buffer.from(hashAppSecret(appSecret), 'hex'));
      if (!row || row.revoked_at || !matches) throw new AppError('INVALID_CREDENTIALS', 'Invalid app credentials');
      return toWidgetApp(row);
    },

    /** Every origin pattern of every active app (for CORS preflight, where the app is not known yet). */
    async listAllOrigins(): Promise<string[]> {
      const rows = await deps.apps.listActive();
      return [...new Set(rows.flatMap((row) => JSON.parse(row.origins) as string[]))];
    },

    /** Replaces an app's allowed origins; its id, secret and visitors' conversations stay as they are. */
    async setOrigins(id: string, requested: readonly string[]): Promise<WidgetApp> {
      const origins = parseOrigins(requested);
      const found = APP_ID_PATTERN.test(id) && (await deps.apps.updateOrigins(id, JSON.stringify(origins)));
      if (!found) throw new AppError('NOT_FOUND', `No active widget app with id ${id}`);
      deps.onChange?.();
      return toWidgetApp((await deps.apps.find(id))!);
    },

    async revoke(id: string): Promise<void> {
      if (!(await deps.apps.revoke(id, new Date().toISOString()))) throw new AppError('NOT_FOUND', `No widget app with id ${id}`);
      deps.onChange?.();
    },
  };
}

export type WidgetAppsService = ReturnType<typeof createWidgetAppsService>;
