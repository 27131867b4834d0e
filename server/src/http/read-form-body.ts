import type { Context } from 'koa';
import { AppError } from '../errors/app-error.ts';
import { MAX_JSON_BODY_BYTES, readLimited } from './read-json-body.ts';

/**
 * Reads an `application/x-www-form-urlencoded` body into fields, with the JSON body's size limit. A repeated name
 * keeps its last value, as a form with one input per name would send.
 */
export async function readFormBody(ctx: Context, maxBytes = MAX_JSON_BODY_BYTES): Promise<Record<string, string>> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > maxBytes) throw new AppError('PAYLOAD_TOO_LARGE', `The form body is over ${maxBytes} bytes`);
  const text = (await readLimited(ctx.req, maxBytes)).toString('utf8');
  return Object.fromEntries(new URLSearchParams(text));
}
