import { ENV_NAME_PATTERN } from '@concierge/shared';
import { AppError } from '../../errors/app-error.ts';

const MAX_ENTRIES = 100;
const MAX_VALUE_BYTES = 32 * 1024;
/**
 * Secrets are tokens and keys, and every one becomes patterns in the task's redactor (its folded and
 * encoded forms cost about 2 KB of memory per byte): they get tighter limits than plain env, so no
 * request can buy the server hundreds of megabytes.
 */
export const MAX_SECRET_ENTRIES = 32;
export const MAX_SECRET_VALUE_BYTES = 4 * 1024;
export const MAX_SECRETS_TOTAL_BYTES = 8 * 1024;

/** Validates an `env` or `secrets` object: valid names, string values, size limits. Throws INVALID_ENV. */
export function parseEnvInput(value: unknown, field: 'env' | 'secrets'): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new AppError('INVALID_ENV', `"${field}" must be an object of string values`);
  const entries = Object.entries(value as Record<string, unknown>);
  const secrets = field === 'secrets';
  const maxEntries = secrets ? MAX_SECRET_ENTRIES : MAX_ENTRIES;
  const maxValueBytes = secrets ? MAX_SECRET_VALUE_BYTES : MAX_VALUE_BYTES;
  if (entries.length > maxEntries) throw new AppError('INVALID_ENV', `"${field}" may hold at most ${maxEntries} entries`);
  let totalBytes = 0;
  for (const [name, inner] of entries) {
    if (!ENV_NAME_PATTERN.test(name)) {
      throw new AppError('INVALID_ENV', `Invalid ${field} name "${name.slice(0, 64)}": use letters, digits and underscores, not starting with a digit`);
    }
    // Never echo a value: it may be a secret.
    if (typeof inner !== 'string') throw new AppError('INVALID_ENV', `The ${field} value of "${name}" must be a string`);
    // A NUL cannot be passed through execve: it would cut the value short or fail the spawn.
    if (inner.includes('\0')) throw new AppError('INVALID_ENV', `The ${field} value of "${name}" contains a NUL character`);
    const bytes = Buffer.byteLength(inner);
    if (bytes > maxValueBytes) throw new AppError('INVALID_ENV', `The ${field} value of "${name}" is over ${maxValueBytes} bytes`);
    totalBytes += bytes;
  }
  if (secrets && totalBytes > MAX_SECRETS_TOTAL_BYTES) {
    throw new AppError('INVALID_ENV', `"secrets" may hold at most ${MAX_SECRETS_TOTAL_BYTES} bytes of values in all`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
