import type { Middleware } from 'koa';
import type { ApiFailure } from '@concierge/shared';
import { AppError, isAppError } from '../../errors/app-error.ts';
import type { Logger } from '../../logging/logger.ts';
import { isDatabaseUnavailable } from '../../store/is-database-unavailable.ts';

/** Wraps every failure in the Sigmic envelope; unexpected errors become a generic 500 (detail only in the log). */
export function errorEnvelope(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.respond !== false) {
        throw new AppError('NOT_FOUND', `No route for ${ctx.method} ${ctx.path}`);
      }
      if (ctx.status === 405 && !ctx.body) throw new AppError('METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}`, { headers: { Allow: ctx.response.get('Allow') } });
    } catch (caught) {
      let error: AppError;
      if (isAppError(caught)) error = caught;
      else if (isBodyError(caught)) error = caught.status === 413
        ? new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large')
        : new AppError('VALIDATION_ERROR', caught.message);
      else if (isDatabaseUnavailable(caught)) {
        // An outage is weather: the client is told to come back, and nothing was half written.
        logger.warn({ requestId: ctx.state.requestId, path: ctx.path, reason: (caught as Error).message }, 'request failed: the database is unavailable');
        error = new AppError('SERVICE_UNAVAILABLE', 'The service cannot reach its database right now; try again in a few seconds', { headers: { 'Retry-After': '5' } });
      } else {
        logger.error({ requestId: ctx.state.requestId, error: caught, path: ctx.path }, 'request failed');
        error = new AppError('INTERNAL_ERROR', `Internal error (request ${ctx.state.requestId})`);
      }
      if (ctx.headerSent || !ctx.writable) return;
      // Not through the server-wide secret registry: a client error repeats what the caller sent (a path,
      // an id), and redacting it would tell anyone, unauthenticated, whether a guess is some tenant's live
      // secret (red team). Internal errors say nothing but the request id; their detail is in the log.
      const body: ApiFailure = { success: false, error: { message: error.message, code: error.code } };
      ctx.status = error.status;
      ctx.set(error.headers);
      ctx.body = body;
    }
  };
}

function isBodyError(error: unknown): error is { status: number; message: string; expose: true } {
  return typeof error === 'object' && error !== null && (error as { expose?: boolean }).expose === true && typeof (error as { status?: unknown }).status === 'number';
}
