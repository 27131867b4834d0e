/** Longest wait a provider's Retry-After may impose before the next attempt; longer hints are cut to this. */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * The wait, in ms, that a 429 or 503 asks for: `retry-after-ms` (OpenAI), else `Retry-After` as delta-seconds
 * or an HTTP-date (RFC 9110 §10.2.3). Undefined when absent or unreadable; never negative, never above the cap.
 */
export function parseRetryAfter(headers: Record<string, string> | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const read = (name: string) => Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1]?.trim();
  const milliseconds = read('retry-after-ms');
  if (milliseconds && /^\d+(\.\d+)?$/.test(milliseconds)) return clamp(Number(milliseconds));
  const value = read('retry-after');
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return clamp(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : clamp(date - now);
}

function clamp(ms: number): number {
  return Math.min(Math.max(0, Math.round(ms)), MAX_RETRY_AFTER_MS);
}
