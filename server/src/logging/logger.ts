import type { LogLevel } from '../config.ts';
import { secretRegistry } from './secret-registry.ts';

/** Structured JSON logger; every line passes through the secret registry before it is written. */
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

function scrub(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[Truncated]';
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = REDACTED_KEYS.test(key) ? '[REDACTED]' : scrub(inner, depth + 1);
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
    const record = { time: new Date().toISOString(), level, msg: message, ...base, ...(scrub(fields) as object) };
    write(`${secretRegistry.redact(JSON.stringify(record))}\n`);
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
