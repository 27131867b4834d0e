/** Upload limits shared by server and widget (Sigmic: 20 files, 50 MB each). */
export const MAX_FILES = 20;
export const MAX_FILE_BYTES = 50 * 1024 * 1024;

/** POST /tasks JSON body (multipart carries the same names; `files` only there). */
export interface CreateTaskRequest {
  message: string;
  systemPrompt?: string;
  showInHistory?: boolean | 'true' | 'false';
  autoExecute?: boolean | 'true' | 'false';
  env?: Record<string, string>;
  secrets?: Record<string, string>;
}

export interface CreateTaskResponse {
  id: string;
  status: 'pending';
}

export interface FollowUpRequest {
  message: string;
}

export interface ApproveRequest {
  outcome: 'proceed_once' | 'proceed_always' | 'cancel';
}

/** POST /auth/token body. */
export interface TokenRequest {
  appId: string;
  appSecret: string;
  endUserId: string;
  expiresIn?: string;
  env?: Record<string, string>;
  secrets?: Record<string, string>;
}

export interface TokenResponse {
  token: string;
  expiresAt: string;
}

/** Env and secret names: letters, digits, underscore; not starting with a digit. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
