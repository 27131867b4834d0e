import type { LogLevel } from '../config.ts';
import { secretRegistry } from './secret-registry.ts';

/** Structured JSON logger; every field value passes through the secret registry before it is written. */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
  child(fields: Record<string, unknown>): Logger;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

// Field names whose values are never logged, whatever they hold.
const REDACTED_KEYS = /^(secrets?|authorization|x-api-key|appSecret|password|token|key)$/i;

// Ids, codes and statuses are the server's own values, never secrets: a visitor who registers one as a
// "secret" must not hide it from the log.
const SERVER_VALUE_KEY = /^(id|.*Id|code|status|outcome|level)$/;

/** A copy of `value` with secret fields dropped and live secret values redacted from its strings. */
function scrub(value: unknown, depth = 0, key = ''): unknown {
  if (depth > 6) return '[Truncated]';
  if (typeof value === 'string') return SERVER_VALUE_KEY.test(key) ? value : secretRegistry.redact(value);
  if (value instanceof Error) {
    return { name: value.name, message: secretRegistry.redact(value.message), stack: value.stack && secretRegistry.redact(value.stack) };
  }
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1, key));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [name, inner] of Object.entries(value)) out[name] = REDACTED_KEYS.test(name) ? '[REDACTED]' : scrub(inner, depth + 1, name);
    return out;
  }
  return value;
}

/** Creates a logger writing one JSON object per line to `write` (stdout by default). */
export function createLogger(
  options: { level?: LogLevel; write?: (line: string) => void; base?: Record<string, unknown> } = {},
): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const base = options.base ?? {};
  const log = (level: Exclude<LogLevel, 'silent'>, fields: Record<string, unknown>, message: string) => {
    if (LEVELS[level] < threshold) return;
    // Only field values are scrubbed: the time, level and message are the server's own words, so a
    // visitor's "secret" can never blank them.
    const record = { time: new Date().toISOString(), level, msg: message, ...(scrub({ ...base, ...fields }) as object) };
    write(`${JSON.stringify(record)}\n`);
  };
  return {
    debug: (fields, message) => log('debug', fields, message),
    info: (fields, message) => log('info', fields, message),
    warn: (fields, message) => log('warn', fields, message),
    error: (fields, message) => log('error', fields, message),
    child: (fields) => createLogger({ ...options, base: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (tests, CLI commands). */
export const silentLogger: Logger = createLogger({ level: 'silent' });
