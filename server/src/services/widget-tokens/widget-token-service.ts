import { AppError } from '../../errors/app-error.ts';
import type { Logger } from '../../logging/logger.ts';
import type { ProjectsRepository } from '../../store/projects-repository.ts';
import { parseDuration } from '../duration.ts';
import type { RateLimiter } from '../rate-limiter.ts';
import { parseEnvInput } from '../tasks/env-input.ts';
import type { WidgetAppsService } from '../widget-apps/widget-apps-service.ts';
import { resolveWidgetRateLimits } from '../widget-identity/widget-rate-limits.ts';
import type { EndUserContextStore } from './end-user-context-store.ts';
import type { SigningKeys } from './signing-keys.ts';
import { MAX_WIDGET_TOKEN_LIFETIME_MS, signWidgetJwt } from './widget-jwt.ts';

export const DEFAULT_TOKEN_LIFETIME = '1h';
/** Widget tokens live in the browser: a day at most, refreshed through the site owner's backend. */
// Sigmic's own examples ask for "7d"; a week is the most a browser-held token may live.
export const MAX_TOKEN_LIFETIME_MS = MAX_WIDGET_TOKEN_LIFETIME_MS;
export const MAX_END_USER_ID_CHARS = 256;

/** The answer of POST /auth/token (inside the success envelope). */
export interface TokenExchangeResult {
  token: string;
  expiresAt: string;
}

function requireString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function parseEndUserId(value: unknown): string {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    throw new AppError('MISSING_END_USER_ID', '"endUserId" is required: the id of the signed-in user on your site');
  }
  if (typeof value !== 'string') throw new AppError('MISSING_END_USER_ID', '"endUserId" must be a non-empty string');
  // Kept verbatim (no trimming): it is the end user's identity and scopes their tasks.
  if (value.length > MAX_END_USER_ID_CHARS) throw new AppError('VALIDATION_ERROR', `"endUserId" is longer than ${MAX_END_USER_ID_CHARS} characters`);
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new AppError('VALIDATION_ERROR', '"endUserId" must not contain control characters');
  return value;
}

function parseLifetime(value: unknown): number {
  if (value === undefined || value === null) return parseDuration(DEFAULT_TOKEN_LIFETIME)!;
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined) throw new AppError('INVALID_EXPIRES_IN', '"expiresIn" must be a duration like "30m", "1h" or "12h" (units s, m, h, d)');
  if (ms > MAX_TOKEN_LIFETIME_MS) throw new AppError('INVALID_EXPIRES_IN', `"expiresIn" may be at most 7d, got "${String(value)}"`);
  return ms;
}

/** POST /auth/token: checks an app's credentials, stores the end user's env/secrets sealed, and mints a widget JWT. */
export function createWidgetTokenService(deps: {
  apps: WidgetAppsService;
  contexts: EndUserContextStore | undefined;
  keys: SigningKeys | undefined;
  projects: ProjectsRepository;
  limiter: RateLimiter;
  logger: Logger;
}) {
  return {
    /** Validates the body in the documented order, then credentials (401), then the per-app rate limit (429). */
    async exchange(body: Record<string, unknown>): Promise<TokenExchangeResult> {
      const { keys, contexts } = deps;
      if (!keys || !contexts) throw new AppError('JWT_NOT_CONFIGURED', 'This server has no widget token signing secret: set CONCIERGE_JWT_SECRET or make the data dir writable');
      const appId = requireString(body.appId);
      const appSecret = requireString(body.appSecret);
      if (!appId || !appSecret) throw new AppError('MISSING_CREDENTIALS', '"appId" and "appSecret" are required (from `concierge apps create`)');
      const endUserId = parseEndUserId(body.endUserId);
      const lifetimeMs = parseLifetime(body.expiresIn);
      const env = parseEnvInput(body.env, 'env') ?? {};
      const secrets = parseEnvInput(body.secrets, 'secrets') ?? {};
      const app = await deps.apps.verifyCredentials(appId, appSecret);
      const rules = await resolveWidgetRateLimits(deps.projects, app.project);
      await deps.limiter.take(`token:${app.id}`, rules.token, `token exchanges for widget app ${app.id}`);
      await contexts.save(app.id, endUserId, { env, secrets });
      const issued = await signWidgetJwt(keys, { endUserId, appId: app.id, project: app.project, lifetimeMs });
      deps.logger.info({ appId: app.id, project: app.project, jti: issued.jti, expiresAt: issued.expiresAt.toISOString() }, 'widget token issued');
      return { token: issued.token, expiresAt: issued.expiresAt.toISOString() };
    },
  };
}

export type WidgetTokenService = ReturnType<typeof createWidgetTokenService>;
