// Socket errors of a lost connection, and PostgreSQL's classes 08 (connection exception) and 57P
// (operator intervention: the server shutting down or starting up).
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const LOST_CONNECTION_MESSAGE = /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect/i;

/**
 * Whether an error means the database could not be reached (an outage, a restart, a dropped
 * connection) rather than that the query was wrong: such a request answers 503 and a turn waits for
 * the database instead of failing its task.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = String((error as { code?: unknown }).code ?? '');
  if (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08') || code.startsWith('57P')) return true;
  if (LOST_CONNECTION_MESSAGE.test(error.message)) return true;
  // AggregateError (several addresses refused) and wrapped causes.
  const nested = [...((error as { errors?: unknown[] }).errors ?? []), (error as { cause?: unknown }).cause];
  return nested.some((inner) => inner !== error && isDatabaseUnavailable(inner));
}
