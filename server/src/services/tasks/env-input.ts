import { ENV_NAME_PATTERN } from '@concierge/shared';
import { AppError } from '../../errors/app-error.ts';

const MAX_ENTRIES = 100;
const MAX_VALUE_BYTES = 32 * 1024;

/** Validates an `env` or `secrets` object: valid names, string values. Throws INVALID_ENV. */
export function parseEnvInput(value: unknown, field: 'env' | 'secrets'): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new AppError('INVALID_ENV', `"${field}" must be an object of string values`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_ENTRIES) throw new AppError('INVALID_ENV', `"${field}" may hold at most ${MAX_ENTRIES} entries`);
  for (const [name, inner] of entries) {
    if (!ENV_NAME_PATTERN.test(name)) {
      throw new AppError('INVALID_ENV', `Invalid ${field} name "${name.slice(0, 64)}": use letters, digits and underscores, not starting with a digit`);
    }
    // Never echo a value: it may be a secret.
    if (typeof inner !== 'string') throw new AppError('INVALID_ENV', `The ${field} value of "${name}" must be a string`);
    // A NUL cannot be passed through execve: it would cut the value short or fail the spawn.
    if (inner.includes('\0')) throw new AppError('INVALID_ENV', `The ${field} value of "${name}" contains a NUL character`);
    if (Buffer.byteLength(inner) > MAX_VALUE_BYTES) throw new AppError('INVALID_ENV', `The ${field} value of "${name}" is over ${MAX_VALUE_BYTES} bytes`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
