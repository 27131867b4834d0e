import path from 'node:path';
import { MODEL_ENV_NAMES } from './runtime/model/resolve-model-setting.ts';

/** Everything the server reads from its environment, read once (see contract "Environment variables"). */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  jwtSecret: string | undefined;
  /** The model variables (CONCIERGE_MODEL, CONCIERGE_LLM_*, per-provider keys and base URLs), as resolveModelSetting reads them. */
  modelEnv: Record<string, string | undefined>;
  /** A model stream silent this long fails (and is retried like a cut stream); 0 turns the limit off. */
  modelIdleTimeoutMs: number;
  sandbox: 'bwrap' | 'unsafe-host';
  logLevel: LogLevel;
  /** Tasks that may run their agent loop at once; the rest wait in the queue. */
  maxConcurrentTasks: number;
  /** Delay before the first model retry; doubles per attempt. */
  modelRetryDelayMs: number;
  modelMaxRetries: number;
  maxSteps: number;
  /** How long an idle task keeps its in-memory secrets (follow-ups after that fail with SECRETS_LOST). */
  secretsTtlMs: number;
  /** Where sandboxed commands run and what they may use together (see docs/security.md "Sandbox"). */
  sandboxHost: {
    /** Host uid/gid commands run as when the server is root (undefined: the built-in default). */
    uid: number | undefined;
    gid: number | undefined;
    /** Caps on all sandboxes together; 0 means the host-sized default. */
    totalMemoryMb: number;
    totalProcesses: number;
    totalCpuPercent: number;
  };
  /** Workspaces of finished tasks idle longer than this many days are removed (0 keeps them). */
  workspaceRetentionDays: number;
  /** Free disk (MB) kept for the database and logs: workspace writes stop short of it (0 turns it off). */
  diskReserveMb: number;
  /** HTTP limits against slow or greedy clients (see docs/security.md "HTTP limits"). */
  http: {
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    bodyIdleTimeoutMs: number;
    maxConnections: number;
    maxConnectionsPerIp: number;
    maxStreamsPerPrincipal: number;
    maxStreamsPerTask: number;
    /** A stream whose client reads nothing for this long is closed. */
    streamStallTimeoutMs: number;
  };
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

/** Reads and validates the environment; throws ConfigError naming the bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const sandbox = env.CONCIERGE_SANDBOX || 'bwrap';
  if (sandbox !== 'bwrap' && sandbox !== 'unsafe-host') {
    throw new ConfigError(`CONCIERGE_SANDBOX must be "bwrap" or "unsafe-host", got "${sandbox}"`);
  }
  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of debug, info, warn, error, silent; got "${env.LOG_LEVEL}"`);
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// (leave it unset for SQLite)');
  }
  return {
    port: integer(env, 'PORT', 8787),
    host: env.HOST || '127.0.0.1',
    dataDir: path.resolve(env.CONCIERGE_DATA_DIR || './.concierge'),
    databaseUrl,
    jwtSecret: env.CONCIERGE_JWT_SECRET || undefined,
    modelEnv: Object.fromEntries(MODEL_ENV_NAMES.map((name) => [name, env[name] || undefined])),
    modelIdleTimeoutMs: integer(env, 'CONCIERGE_MODEL_IDLE_TIMEOUT_MS', 60_000),
    sandbox,
    logLevel,
    maxConcurrentTasks: integer(env, 'CONCIERGE_MAX_CONCURRENT_TASKS', 32),
    modelRetryDelayMs: integer(env, 'CONCIERGE_MODEL_RETRY_DELAY_MS', 1000),
    modelMaxRetries: integer(env, 'CONCIERGE_MODEL_MAX_RETRIES', 2),
    maxSteps: integer(env, 'CONCIERGE_MAX_STEPS', 20),
    secretsTtlMs: integer(env, 'CONCIERGE_SECRETS_TTL_MS', 3_600_000),
    sandboxHost: {
      uid: env.CONCIERGE_SANDBOX_UID ? integer(env, 'CONCIERGE_SANDBOX_UID', 0) : undefined,
      gid: env.CONCIERGE_SANDBOX_GID ? integer(env, 'CONCIERGE_SANDBOX_GID', 0) : undefined,
      totalMemoryMb: integer(env, 'CONCIERGE_SANDBOX_TOTAL_MEMORY_MB', 0),
      totalProcesses: integer(env, 'CONCIERGE_SANDBOX_TOTAL_PROCESSES', 0),
      totalCpuPercent: integer(env, 'CONCIERGE_SANDBOX_TOTAL_CPU_PERCENT', 0),
    },
    workspaceRetentionDays: integer(env, 'CONCIERGE_WORKSPACE_RETENTION_DAYS', 30),
    diskReserveMb: integer(env, 'CONCIERGE_DISK_RESERVE_MB', 256),
    http: {
      headersTimeoutMs: integer(env, 'CONCIERGE_HEADERS_TIMEOUT_MS', 10_000),
      requestTimeoutMs: integer(env, 'CONCIERGE_REQUEST_TIMEOUT_MS', 300_000),
      keepAliveTimeoutMs: integer(env, 'CONCIERGE_KEEP_ALIVE_TIMEOUT_MS', 5_000),
      bodyIdleTimeoutMs: integer(env, 'CONCIERGE_BODY_IDLE_TIMEOUT_MS', 15_000),
      maxConnections: integer(env, 'CONCIERGE_MAX_CONNECTIONS', 1024),
      maxConnectionsPerIp: integer(env, 'CONCIERGE_MAX_CONNECTIONS_PER_IP', 256),
      maxStreamsPerPrincipal: integer(env, 'CONCIERGE_MAX_STREAMS_PER_PRINCIPAL', 256),
      maxStreamsPerTask: integer(env, 'CONCIERGE_MAX_STREAMS_PER_TASK', 8),
      streamStallTimeoutMs: integer(env, 'CONCIERGE_STREAM_STALL_TIMEOUT_MS', 30_000),
    },
  };
}
