import type { Context, Next } from 'koa';
import { AppError } from '../../errors/app-error.ts';
import type { ApiKeysService } from '../../services/api-keys/api-keys-service.ts';
import type { Principal } from '../../services/tasks/principal.ts';

/** Verifies widget JWTs (issue: widget identity). Throws INVALID_TOKEN, JWT_NOT_CONFIGURED or ORIGIN_NOT_ALLOWED. */
export interface WidgetTokenAuth {
  authenticate(token: string, origin: string | undefined): Promise<Extract<Principal, { kind: 'widget' }>>;
  /** Throws INVALID_TOKEN once the principal's widget app is revoked (open streams re-check with it). */
  checkActive(principal: Extract<Principal, { kind: 'widget' }>): Promise<void>;
}

/**
 * Reads the credential from `Authorization: Bearer …` or `X-API-Key`, resolves the caller to ctx.state.principal,
 * and leaves `ctx.state.checkPrincipal` for long requests (streams) to re-check that it was not revoked.
 */
export function authenticate(deps: { apiKeys: ApiKeysService; widgetAuth: WidgetTokenAuth | undefined }) {
  return async (ctx: Context, next: Next) => {
    const header = ctx.get('authorization');
    let credential: string | undefined;
    if (header) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) throw new AppError('INVALID_AUTH_FORMAT', 'The Authorization header must be "Bearer <API key or token>"');
      credential = match[1];
    } else if (ctx.get('x-api-key')) {
      credential = ctx.get('x-api-key').trim();
    }
    if (!credential) throw new AppError('AUTH_REQUIRED', 'Authentication required: send Authorization: Bearer <API key or widget token>');
    if (credential.startsWith('ck_')) {
      const key = await deps.apiKeys.verify(credential);
      ctx.state.principal = { kind: 'api_key', project: key.project, apiKeyId: key.apiKeyId, username: `key:${key.name}` } satisfies Principal;
      ctx.state.checkPrincipal = async () => void (await deps.apiKeys.verify(credential));
    } else if (credential.startsWith('eyJ')) {
      if (!deps.widgetAuth) throw new AppError('JWT_NOT_CONFIGURED', 'This server does not have widget token signing configured');
      const { widgetAuth } = deps;
      const principal = await widgetAuth.authenticate(credential, ctx.get('origin') || undefined);
      ctx.state.principal = principal;
      // Token expiry is not re-checked: the widget refreshes its token and reconnects on its own.
      ctx.state.checkPrincipal = () => widgetAuth.checkActive(principal);
    } else {
      throw new AppError('INVALID_AUTH_FORMAT', 'The credential must be an API key (ck_…) or a widget token (eyJ…)');
    }
    await next();
  };
}
