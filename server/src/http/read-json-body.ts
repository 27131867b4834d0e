import type { Context } from 'koa';
import { AppError } from '../errors/app-error.ts';

export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** Reads and parses a JSON object body, enforcing the size limit while reading. */
export async function readJsonBody(ctx: Context, maxBytes = MAX_JSON_BODY_BYTES): Promise<Record<string, unknown>> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > maxBytes) throw new AppError('PAYLOAD_TOO_LARGE', `The JSON body is over ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      // Answer 413 and close; destroying the socket here would leave the client with a reset, not an answer.
      ctx.set('Connection', 'close');
      throw new AppError('PAYLOAD_TOO_LARGE', `The JSON body is over ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AppError('VALIDATION_ERROR', 'The request body is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new AppError('VALIDATION_ERROR', 'The request body must be a JSON object');
  return parsed as Record<string, unknown>;
}
