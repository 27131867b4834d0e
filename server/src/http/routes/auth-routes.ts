import Router from '@koa/router';
import { AppError } from '../../errors/app-error.ts';
import type { WidgetTokenService } from '../../services/widget-tokens/widget-token-service.ts';
import { readJsonBody } from '../read-json-body.ts';

const MAX_TOKEN_BODY_BYTES = 256 * 1024;

/** POST /auth/token (mounted under /api/v1, no authentication): the widget token exchange, called by the site owner's backend. */
export function createAuthRouter(deps: { tokens: WidgetTokenService }): Router {
  const router = new Router();
  router.post('/auth/token', async (ctx) => {
    const type = ctx.request.type;
    if (type !== '' && type !== 'application/json') throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Send the token request as application/json, not "${type}"`);
    const body = await readJsonBody(ctx, MAX_TOKEN_BODY_BYTES);
    const data = await deps.tokens.exchange(body);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { success: true, data };
  });
  return router;
}
