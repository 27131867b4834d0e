import type { Middleware } from 'koa';
import { AppError } from '../../errors/app-error.ts';
import type { OriginPolicy } from '../origin-policy.ts';

export const CORS_ALLOWED_METHODS = 'GET, POST, DELETE, OPTIONS';
export const CORS_ALLOWED_HEADERS = 'Authorization, Content-Type, Last-Event-ID, X-API-Key';
export const CORS_EXPOSED_HEADERS = 'Retry-After, X-Request-Id, Content-Disposition';
export const CORS_MAX_AGE_S = 600;

// The token exchange is called by the site owner's backend with the app secret: never from a browser.
const isCorsPath = (path: string) => path.startsWith('/api/v1/') && !path.startsWith('/api/v1/auth/');

/**
 * CORS for the Task API. Preflights are answered only for origins some widget app allows; responses to
 * such origins echo `Access-Control-Allow-Origin` (errors included, so the widget can read a 401 and
 * refresh its token). Whether the origin fits the token's own app is checked at authentication.
 */
export function cors(policy: OriginPolicy): Middleware {
  return async (ctx, next) => {
    const origin = ctx.get('origin');
    if (!isCorsPath(ctx.path)) return next();
    ctx.vary('Origin');
    if (!origin) return next();
    const preflight = ctx.method === 'OPTIONS' && ctx.get('access-control-request-method') !== '';
    // A widget call may reach a server whose origin set is older than the one that answered its
    // preflight; API-key calls never wait for a reload.
    const widgetCall = /^Bearer\s+eyJ/i.test(ctx.get('authorization'));
    const allowed = await policy.allowsAny(origin, { waitOnMiss: preflight || widgetCall });
    if (preflight) {
      ctx.vary('Access-Control-Request-Method');
      ctx.vary('Access-Control-Request-Headers');
      if (!allowed) throw new AppError('ORIGIN_NOT_ALLOWED', `Origin ${origin.slice(0, 200)} is not an allowed origin of any widget app`);
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Allow-Methods', CORS_ALLOWED_METHODS);
      ctx.set('Access-Control-Allow-Headers', CORS_ALLOWED_HEADERS);
      ctx.set('Access-Control-Max-Age', String(CORS_MAX_AGE_S));
      ctx.status = 204;
      return;
    }
    if (allowed) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Expose-Headers', CORS_EXPOSED_HEADERS);
    }
    await next();
  };
}
