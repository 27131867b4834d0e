import type { Context } from 'koa';
import { AppError } from '../errors/app-error.ts';

export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** How much of an oversized body is read and dropped so the client can take the 413; past this the socket is cut. */
export const MAX_DISCARDED_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Reads the body up to `maxBytes`. Past the limit it rejects with PAYLOAD_TOO_LARGE and drops the rest as it
 * arrives: closing or destroying the socket while the client still sends makes it see EPIPE, not the 413.
 */
export function readLimited(request: Context['req'], maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      request.off('data', onData).off('end', onEnd).off('error', onError);
      let discarded = 0;
      request.on('error', () => {});
      request.on('data', (rest: Buffer) => {
        discarded += rest.length;
        if (discarded > MAX_DISCARDED_BODY_BYTES) request.destroy();
      });
      reject(new AppError('PAYLOAD_TOO_LARGE', `The JSON body is over ${maxBytes} bytes`));
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    const onError = (error: Error) => reject(error);
    request.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** Reads and parses a JSON object body, enforcing the size limit while reading. */
export async function readJsonBody(ctx: Context, maxBytes = MAX_JSON_BODY_BYTES): Promise<Record<string, unknown>> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > maxBytes) throw new AppError('PAYLOAD_TOO_LARGE', `The JSON body is over ${maxBytes} bytes`);
  const chunks = [await readLimited(ctx.req, maxBytes)];
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
