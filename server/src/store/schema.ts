import type { Generated } from 'kysely';

/** Table shapes as stored. Booleans are 0/1 integers and JSON is text, so SQLite and PostgreSQL agree. */
export interface Database {
  projects: ProjectsTable;
  api_keys: ApiKeysTable;
  widget_apps: WidgetAppsTable;
  end_user_contexts: EndUserContextsTable;
  tasks: TasksTable;
  task_events: TaskEventsTable;
  rate_limit_hits: RateLimitHitsTable;
  servers: ServersTable;
  settings: SettingsTable;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface ServersTable {
  id: string;
  started_at: string;
  last_seen_at: string;
}

export interface RateLimitHitsTable {
  key: string;
  /** Epoch milliseconds (PostgreSQL bigint arrives as a string). */
  at: number | string;
  expires_at: number;
}

export interface ProjectsTable {
  name: string;
  config: string;
  created_at: string;
  updated_at: string;
}

export interface ApiKeysTable {
  id: string;
  project: string;
  name: string;
  key_hash: string;
  key_prefix: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface WidgetAppsTable {
  id: string;
  project: string;
  name: string;
  secret_hash: string;
  origins: string;
  created_at: string;
  revoked_at: string | null;
}

export interface EndUserContextsTable {
  app_id: string;
  end_user_id: string;
  /** AES-256-GCM sealed JSON of `{env, secrets}`. */
  sealed: string;
  updated_at: string;
}

export interface TasksTable {
  id: string;
  project: string;
  api_key_id: string | null;
  app_id: string | null;
  end_user_id: string | null;
  username: string;
  session_id: string;
  conversation_id: string;
  status: string;
  message: string;
  system_prompt: string | null;
  show_in_history: number;
  auto_execute: number;
  env: string | null;
  has_secrets: number;
  /** JSON of keyed fingerprints of the task's secrets, so listings can hide names made from them later. */
  secret_fingerprints: string | null;
  /** The server whose memory holds the task's secrets (only it can run the task's turns). */
  secrets_server_id: string | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  last_activity_at: string;
  message_count: number;
  /** JSON of the agent's resumable state (model messages, pending tool calls, grants). */
  state: string;
  /** Server instance currently running the task, with its lease time (for restart recovery). */
  runner_id: string | null;
  lease_until: string | null;
}

export interface TaskEventsTable {
  task_id: string;
  seq: number;
  event: string;
  data: string;
  created_at: string;
}

export type Generatedless = Generated<number>;
