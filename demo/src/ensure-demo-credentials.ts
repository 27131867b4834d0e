import { type DemoState, loadDemoState, saveDemoState } from './demo-state.ts';
import { DEMO_USER } from './demo-user.ts';
import { requestConciergeToken, TokenExchangeError } from './request-concierge-token.ts';
import { runConciergeCli } from './run-concierge-cli.ts';

/** What the demo needs to find or create its project's API key and widget app. */
export interface EnsureCredentialsOptions {
  root: string;
  env: NodeJS.ProcessEnv;
  stateFile: string;
  project: string;
  /** Origins the widget app must allow (the demo page's). */
  origins: string[];
  /** The running API server, used to check that saved credentials still work. */
  apiUrl: string;
}

/** The credentials in use, and which of them this run had to create. */
export interface EnsuredCredentials {
  state: DemoState;
  createdKey: boolean;
  createdApp: boolean;
}

async function isKeyAccepted(apiUrl: string, key: string): Promise<boolean> {
  const response = await fetch(`${apiUrl}/api/v1/tasks?limit=1`, { headers: { Authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(10_000) });
  await response.body?.cancel();
  return response.status !== 401;
}

async function isAppAccepted(apiUrl: string, app: DemoState['app']): Promise<boolean> {
  try {
    await requestConciergeToken({ conciergeUrl: apiUrl, appId: app.appId, appSecret: app.appSecret }, DEMO_USER);
    return true;
  } catch (error) {
    if (error instanceof TokenExchangeError && error.code === 'INVALID_CREDENTIALS') return false;
    throw error;
  }
}

/**
 * Reuses the API key and widget app saved by an earlier run when the server still accepts them, adding
 * the demo's current origins to the app when the page moved; creates what is missing with the
 * `concierge` CLI.
 */
export async function ensureDemoCredentials(options: EnsureCredentialsOptions): Promise<EnsuredCredentials> {
  const saved = await loadDemoState(options.stateFile);
  const reusable = saved?.project === options.project ? saved : undefined;
  const cli = (args: string[]) => runConciergeCli(args, { root: options.root, env: options.env });

  let apiKey = reusable?.apiKey;
  const createdKey = !apiKey || !(await isKeyAccepted(options.apiUrl, apiKey.key));
  if (createdKey) {
    const created = await cli(['keys', 'create', '--project', options.project, '--name', 'demo']);
    apiKey = { id: String(created.id), key: String(created.key) };
  }

  let app = reusable?.app;
  const createdApp = !app || !(await isAppAccepted(options.apiUrl, app));
  if (app && !createdApp && !options.origins.every((origin) => app!.origins.includes(origin))) {
    // The page moved (another DEMO_PORT): widen the same app, so its visitor keeps their conversations.
    const origins = [...new Set([...app.origins, ...options.origins])];
    const updated = await cli(['apps', 'origins', app.appId, ...origins.flatMap((origin) => ['--origin', origin])]);
    app = { ...app, origins: Array.isArray(updated.origins) ? updated.origins.map(String) : origins };
    await saveDemoState(options.stateFile, { version: 1, project: options.project, apiKey: apiKey!, app });
  }
  if (createdApp) {
    const originArgs = options.origins.flatMap((origin) => ['--origin', origin]);
    const created = await cli(['apps', 'create', '--project', options.project, '--name', 'Northwind help centre (demo)', ...originArgs]);
    app = {
      appId: String(created.appId),
      appSecret: String(created.appSecret),
      origins: Array.isArray(created.origins) ? created.origins.map(String) : options.origins,
    };
  }

  const state: DemoState = { version: 1, project: options.project, apiKey: apiKey!, app: app! };
  if (createdKey || createdApp) await saveDemoState(options.stateFile, state);
  return { state, createdKey, createdApp };
}
