import { createWidgetAppsService } from '../services/widget-apps/widget-apps-service.ts';
import { openDatabase } from '../store/open-database.ts';
import { createProjectsRepository } from '../store/projects-repository.ts';
import { createWidgetAppsRepository } from '../store/widget-apps-repository.ts';
import type { ProjectConfig } from '../store/project-config.ts';
import { DEFAULT_PROJECT_CONFIG } from '../store/project-config.ts';

/** A JSON answer of the API: status, headers and the parsed envelope. */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected loosely.
  body: any;
}

/** Creates a widget app (and its project) straight in a test server's database, as `concierge apps create` does. */
export async function createTestWidgetApp(dataDir: string, input: { project: string; name?: string; origins: string[] }, databaseUrl?: string) {
  const database = await openDatabase({ dataDir, databaseUrl });
  try {
    const service = createWidgetAppsService({ apps: createWidgetAppsRepository(database.db), projects: createProjectsRepository(database.db) });
    const app = await service.create({ project: input.project, name: input.name ?? `${input.project} app`, origins: input.origins });
    return { appId: app.id, appSecret: app.secret, project: app.project, origins: app.origins };
  } finally {
    await database.close();
  }
}

/** Writes a project's configuration over the defaults (e.g. lower rate limits) in a test server's database. */
export async function configureTestProject(dataDir: string, project: string, config: Partial<ProjectConfig>, databaseUrl?: string): Promise<void> {
  const database = await openDatabase({ dataDir, databaseUrl });
  try {
    await createProjectsRepository(database.db).upsert(project, { ...DEFAULT_PROJECT_CONFIG, ...config });
  } finally {
    await database.close();
  }
}

/** Calls the API with JSON (or without a body) and any headers; never throws on an error status. */
export async function callApi(baseUrl: string, method: string, path: string, options: { headers?: Record<string, string>; body?: unknown } = {}): Promise<ApiAnswer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...options.headers },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON (an artifact download): keep the text.
  }
  return { status: response.status, headers: response.headers, body };
}

/** POST /api/v1/auth/token as a site owner's backend would; returns the JWT or throws with the answer. */
export async function exchangeTestToken(baseUrl: string, body: Record<string, unknown>): Promise<{ token: string; expiresAt: string }> {
  const answer = await callApi(baseUrl, 'POST', '/api/v1/auth/token', { body });
  if (answer.status !== 200) throw new Error(`token exchange answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body.data;
}
