/** Every error code the API answers with, and the HTTP status that goes with it. */
export const ERROR_STATUS = {
  AUTH_REQUIRED: 401,
  INVALID_API_KEY: 401,
  INVALID_AUTH_FORMAT: 401,
  INVALID_TOKEN: 401,
  JWT_NOT_CONFIGURED: 501,
  ORIGIN_NOT_ALLOWED: 403,
  FORBIDDEN: 403,
  MISSING_CREDENTIALS: 400,
  MISSING_END_USER_ID: 400,
  INVALID_CREDENTIALS: 401,
  INVALID_EXPIRES_IN: 400,
  INVALID_ENV: 400,
  VALIDATION_ERROR: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  TASK_BUSY: 409,
  TASK_NOT_ACTIVE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * Why a model call failed (docs/api.md "Model errors"): too many requests, the provider down or the stream cut,
 * silence past the idle timeout, the server's model setting unusable (missing key, rejected key, unknown model),
 * or the provider refusing this request.
 */
export type ModelFailureCode = 'MODEL_RATE_LIMITED' | 'MODEL_UNAVAILABLE' | 'MODEL_TIMEOUT' | 'MODEL_NOT_CONFIGURED' | 'MODEL_ERROR';

/** Codes the agent's `error` event may carry (the task failed for this reason). */
export type TaskErrorCode = ModelFailureCode | 'STEP_LIMIT' | 'SECRETS_LOST' | 'SERVER_RESTART' | 'APP_REVOKED' | 'INTERNAL_ERROR';
