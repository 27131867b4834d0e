import type { Context } from 'koa';
import { MAX_FILE_BYTES, MAX_FILES } from '@concierge/shared';
import { AppError } from '../errors/app-error.ts';
import { parseEnvInput } from '../services/tasks/env-input.ts';
import type { StagedFile } from '../services/uploads/receive-multipart.ts';
import { receiveMultipart } from '../services/uploads/receive-multipart.ts';
import { UploadError } from '../services/uploads/upload-error.ts';
import { readFormBody } from './read-form-body.ts';
import { readJsonBody } from './read-json-body.ts';

export interface TaskInputBody {
  fields: Record<string, unknown>;
  files: StagedFile[];
}

/**
 * Reads a task or follow-up body: JSON, a urlencoded form (Python's `requests.post(url, data=…)`), or multipart
 * with `files` (streamed to staging with limits).
 */
export async function readTaskInput(ctx: Context, stagingDir: string, options: { maxUploadBytes?: number } = {}): Promise<TaskInputBody> {
  const type = ctx.request.type;
  if (type === 'multipart/form-data') {
    try {
      const { fields, files } = await receiveMultipart(ctx.req, {
        stagingDir,
        maxFiles: MAX_FILES,
        maxFileBytes: MAX_FILE_BYTES,
        maxFieldBytes: 1024 * 1024,
        ...(options.maxUploadBytes !== undefined ? { maxTotalBytes: options.maxUploadBytes } : {}),
      });
      return { fields, files };
    } catch (error) {
      if (error instanceof UploadError) throw new AppError(error.code as 'VALIDATION_ERROR', error.message, { status: error.status });
      throw error;
    }
  }
  if (type === 'application/json' || type === '') return { fields: await readJsonBody(ctx), files: [] };
  if (type === 'application/x-www-form-urlencoded') return { fields: await readFormBody(ctx), files: [] };
  throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Unsupported Content-Type "${type}": send application/json or a form (urlencoded or multipart)`);
}

/** Reads a body of plain fields (an approval): JSON or a urlencoded form. */
export async function readFieldsBody(ctx: Context): Promise<Record<string, unknown>> {
  const type = ctx.request.type;
  if (type === 'application/x-www-form-urlencoded') return readFormBody(ctx);
  if (type === 'application/json' || type === '') return readJsonBody(ctx);
  throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Unsupported Content-Type "${type}": send application/json or a urlencoded form`);
}

/**
 * Booleans arrive as JSON booleans or, from forms, as strings: "true" / "false" in any case, since Python's
 * `str(False)` gives "False".
 */
export function parseBooleanField(value: unknown, name: string): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const text = typeof value === 'string' ? value.trim().toLowerCase() : value;
  if (text === true || text === 'true') return true;
  if (text === false || text === 'false') return false;
  throw new AppError('VALIDATION_ERROR', `"${name}" must be true or false`);
}

/** env/secrets: objects in JSON; in multipart they may come as JSON strings. */
export function parseEnvField(value: unknown, name: 'env' | 'secrets'): Record<string, string> | undefined {
  if (typeof value === 'string') {
    try {
      return parseEnvInput(JSON.parse(value), name);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError('INVALID_ENV', `"${name}" must be a JSON object of string values`);
    }
  }
  return parseEnvInput(value, name);
}

export function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AppError('VALIDATION_ERROR', `"${name}" must be a string`);
  return value;
}
