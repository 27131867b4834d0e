import { APICallError } from '@ai-sdk/provider';
import type { ModelFailureCode } from '@concierge/shared';
import { ModelConfigError } from './model-config-error.ts';
import { parseRetryAfter } from './parse-retry-after.ts';
import { ModelIdleTimeoutError } from './with-idle-timeout.ts';

/** What a failed model call means: a message for people, the detail for logs, and whether waiting may heal it. */
export interface ModelFailure {
  code: ModelFailureCode;
  /** Shown to visitors and API clients: no status codes, no provider wording. */
  message: string;
  /** For the log only: the provider's status and own message. */
  detail: string;
  retryable: boolean;
  /** The provider's Retry-After hint, capped (see parseRetryAfter). */
  retryAfterMs?: number;
  /** The connection broke (a cut stream, a reset) rather than the provider answering with an error. */
  interrupted?: boolean;
}

const MESSAGES: Record<ModelFailureCode, string> = {
  MODEL_RATE_LIMITED: 'The AI model is receiving too many requests right now. Please try again in a minute.',
  MODEL_UNAVAILABLE: 'The AI model is unavailable right now. Please try again in a moment.',
  MODEL_TIMEOUT: 'The AI model stopped responding. Please try again.',
  MODEL_NOT_CONFIGURED: 'The AI model is not set up correctly on this server, so the assistant cannot answer. The site owner has been told in the server log.',
  MODEL_ERROR: 'The AI model could not handle this request.',
};

/** Short human reasons for a `retrying` status. */
const RETRY_REASONS: Partial<Record<ModelFailureCode, string>> = {
  MODEL_RATE_LIMITED: 'The AI model is busy',
  MODEL_TIMEOUT: 'The AI model stopped responding',
  MODEL_UNAVAILABLE: 'The AI model is unavailable',
};

/** The `retrying` status text for a failure about to be retried after `delayMs`. */
export function describeRetry(failure: ModelFailure, delayMs: number): string {
  const reason = failure.interrupted ? 'The connection to the AI model was interrupted' : (RETRY_REASONS[failure.code] ?? 'The AI model had a problem');
  const wait = delayMs >= 1500 ? ` in ${Math.round(delayMs / 1000)} seconds` : '';
  return `${reason}; trying again${wait}…`;
}

// Provider key shapes (sk-…, sk-ant-…) a provider may echo in its error text; never logged.
const KEY_PATTERN = /\b(sk|key|ck)[-_][A-Za-z0-9_*-]{6,}/g;

/** Classifies any error a model call can end with: HTTP errors, in-stream error objects, silence, network cuts. */
export function describeModelFailure(error: unknown): ModelFailure {
  const failure = classify(error);
  return { ...failure, message: MESSAGES[failure.code], detail: failure.detail.replace(KEY_PATTERN, '[REDACTED]') };
}

function classify(error: unknown): Omit<ModelFailure, 'message'> {
  if (error instanceof ModelIdleTimeoutError) return { code: 'MODEL_TIMEOUT', detail: error.message, retryable: true };
  if (error instanceof ModelConfigError) return { code: 'MODEL_NOT_CONFIGURED', detail: error.message, retryable: false };
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const detail = `${status !== undefined ? `HTTP ${status}: ` : ''}${error.message}`;
    const retryAfterMs = parseRetryAfter(error.responseHeaders);
    const hint = retryAfterMs !== undefined ? { retryAfterMs } : {};
    if (status === 429) return { code: 'MODEL_RATE_LIMITED', detail, retryable: true, ...hint };
    if (status === 401 || status === 403 || status === 404) return { code: 'MODEL_NOT_CONFIGURED', detail, retryable: false };
    if (error.isRetryable || status === undefined || status >= 500) return { code: 'MODEL_UNAVAILABLE', detail, retryable: true, ...hint };
    return { code: 'MODEL_ERROR', detail, retryable: false };
  }
  if (error instanceof Error) {
    // A cut connection ("terminated", ECONNRESET) or an unparsable chunk: worth another attempt.
    return { code: 'MODEL_UNAVAILABLE', detail: `${error.name}: ${error.message}`, retryable: true, interrupted: true };
  }
  return classifyStreamError(error);
}

/** An `error` part from a provider's stream: Anthropic's `{type, message}`, OpenAI's `{message, type, code}`. */
function classifyStreamError(error: unknown): Omit<ModelFailure, 'message'> {
  const record = asRecord(error);
  const inner = asRecord(record?.error) ?? record;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const kind = [text(inner?.type), text(inner?.code), text(record?.type) === 'error' ? undefined : text(record?.type)].filter(Boolean).join('/');
  const providerMessage = text(inner?.message) ?? text(record?.message) ?? safeJson(error);
  const detail = `stream error${kind ? ` (${kind})` : ''}: ${providerMessage}`;
  if (/rate_limit/i.test(kind)) return { code: 'MODEL_RATE_LIMITED', detail, retryable: true };
  if (/overloaded|server_error|api_error|unavailable|timeout|internal/i.test(kind)) return { code: 'MODEL_UNAVAILABLE', detail, retryable: true };
  return { code: 'MODEL_ERROR', detail, retryable: false };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
