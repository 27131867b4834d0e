/**
 * `npm run demo` after setup: starts `concierge serve` and the Northwind demo backend (node directly,
 * each in its own process group), creates or reuses the demo's API key and widget app, prints the URLs
 * and stops everything on Ctrl+C.
 */
import fs from 'node:fs';
import path from 'node:path';
import { checkPortFree } from './check-port-free.ts';
import { ensureDemoCredentials } from './ensure-demo-credentials.ts';
import { formatBanner } from './format-banner.ts';
import { runConciergeCli } from './run-concierge-cli.ts';
import { type ChildProcessHandle, startChildProcess } from './start-child-process.ts';
import { waitUntilReady } from './wait-until-ready.ts';

const PROJECT = 'default';
const API_GRACE_MS = 15_000;
const DEMO_GRACE_MS = 5_000;
const READY_TIMEOUT_MS = 60_000;
/** A repeated signal within this window is the same Ctrl+C echoed by npm, not a request to hurry. */
const SIGNAL_ECHO_MS = 1_000;

class DemoError extends Error {}

function say(line: string): void {
  process.stdout.write(`demo: ${line}\n`);
}

function readPort(variable: string, fallback: number): number {
  const raw = process.env[variable];
  const port = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new DemoError(`${variable} must be a port number between 1 and 65535, got "${raw}"`);
  return port;
}

function isOnPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((folder) => {
    try {
      fs.accessSync(path.join(folder, command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The address a browser on this machine uses for a server listening on `host`. */
function toBrowserHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

const root = path.resolve(import.meta.dirname, '../..');
const children: ChildProcessHandle[] = [];
const shutdown = new AbortController();
let stopping: Promise<void> | undefined;
let firstSignalAt = 0;

async function stopAll(): Promise<void> {
  // The demo backend first (it depends on the API), then the API server, which drains running tasks.
  for (const child of [...children].reverse()) {
    if (!child.hasExited()) say(`stopping ${child.name} (pid ${child.pid})`);
    await child.stop(child.name === 'concierge serve' ? API_GRACE_MS : DEMO_GRACE_MS);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  const now = Date.now();
  if (stopping) {
    if (now - firstSignalAt > SIGNAL_ECHO_MS) {
      say(`${signal} again: killing everything now`);
      for (const child of children) child.kill();
      process.exit(130);
    }
    return;
  }
  firstSignalAt = now;
  process.stdout.write('\n');
  say(`${signal} received, shutting down (press Ctrl+C again to force)`);
  shutdown.abort();
  stopping = stopAll().then(() => {
    say('stopped. Run `npm run demo` again to continue where you left off.');
    process.exit(0);
  });
}

async function main(): Promise<void> {
  const apiHost = process.env.HOST || '127.0.0.1';
  const apiPort = readPort('PORT', 8787);
  const demoPort = readPort('DEMO_PORT', 3000);
  const demoHost = process.env.DEMO_HOST || '127.0.0.1';
  const dataDir = path.resolve(process.env.CONCIERGE_DATA_DIR || '.concierge');
  const logDir = path.join(dataDir, 'logs');
  const stateFile = path.join(dataDir, 'demo.json');
  const apiUrl = `http://${toBrowserHost(apiHost)}:${apiPort}`;
  const demoOrigins = [`http://localhost:${demoPort}`, `http://127.0.0.1:${demoPort}`];
  const demoUrl = demoOrigins[0]!;

  if ((process.env.CONCIERGE_SANDBOX || 'bwrap') === 'bwrap' && !isOnPath('bwrap')) {
    throw new DemoError(
      'bubblewrap (bwrap) is not installed, and Concierge runs the agent\'s shell commands in it.\n' +
        '  Install it:  sudo apt-get install bubblewrap   (Fedora: sudo dnf install bubblewrap)\n' +
        '  Or, for a quick look on a machine you do not mind the agent touching:  CONCIERGE_SANDBOX=unsafe-host npm run demo',
    );
  }
  if (!fs.existsSync(path.join(root, 'widget/dist/concierge.js'))) {
    throw new DemoError('the widget is not built (widget/dist/concierge.js is missing). Run: bash scripts/setup.sh');
  }
  await checkPortFree(apiHost, apiPort, 'PORT');
  await checkPortFree(demoHost, demoPort, 'DEMO_PORT');
  fs.mkdirSync(logDir, { recursive: true, mode: 0o700 });

  // Everything the user set (provider keys, CONCIERGE_MODEL, LOG_LEVEL, …) reaches the server unchanged.
  const serverEnv: NodeJS.ProcessEnv = { ...process.env, HOST: apiHost, PORT: String(apiPort), CONCIERGE_DATA_DIR: dataDir };

  say(`starting the Concierge API on ${apiUrl} (data in ${dataDir})`);
  const api = startChildProcess({
    name: 'concierge serve',
    command: process.execPath,
    args: [path.join(root, 'server/bin/concierge.js'), 'serve'],
    cwd: root,
    env: serverEnv,
    logFile: path.join(logDir, 'api.log'),
  });
  children.push(api);
  await waitUntilReady(`${apiUrl}/healthz`, api, { timeoutMs: READY_TIMEOUT_MS, signal: shutdown.signal });
  const health = (await (await fetch(`${apiUrl}/healthz`)).json()) as { model?: { provider?: string; label?: string } };

  say('applying demo/concierge.project.json to the "default" project');
  await runConciergeCli(['projects', 'apply', path.join(root, 'demo/concierge.project.json')], { root, env: serverEnv });
  shutdown.signal.throwIfAborted();
  const credentials = await ensureDemoCredentials({ root, env: serverEnv, stateFile, project: PROJECT, origins: demoOrigins, apiUrl });
  shutdown.signal.throwIfAborted();
  if (credentials.createdKey) say(`created an API key for project "${PROJECT}"`);
  if (credentials.createdApp) say(`created a widget app for ${demoOrigins.join(' and ')}`);
  if (credentials.createdKey || credentials.createdApp) say(`saved them in ${stateFile} (mode 0600)`);

  say(`starting the demo site on ${demoUrl}`);
  const demo = startChildProcess({
    name: 'demo site',
    command: process.execPath,
    args: ['--import', 'tsx', path.join(root, 'demo/src/server.ts')],
    cwd: root,
    env: {
      ...process.env,
      DEMO_PORT: String(demoPort),
      DEMO_HOST: demoHost,
      CONCIERGE_URL: apiUrl,
      CONCIERGE_APP_ID: credentials.state.app.appId,
      CONCIERGE_APP_SECRET: credentials.state.app.appSecret,
    },
    logFile: path.join(logDir, 'demo.log'),
  });
  children.push(demo);
  await waitUntilReady(`http://${toBrowserHost(demoHost)}:${demoPort}/healthz`, demo, { timeoutMs: READY_TIMEOUT_MS, signal: shutdown.signal });

  process.stdout.write(
    formatBanner({
      demoUrl,
      apiUrl,
      apiKey: credentials.state.apiKey.key,
      project: PROJECT,
      appId: credentials.state.app.appId,
      modelLabel: health.model?.label ?? 'unknown',
      scripted: health.model?.provider === 'scripted',
      dataDir,
      stateFile,
      logDir,
      reused: !credentials.createdKey,
    }),
  );

  // Keep running until a signal; report a service that dies on its own and stop the rest.
  const crashed = await Promise.race(children.map((child) => child.exited.then((exit) => ({ child, exit }))));
  if (stopping) return;
  throw new DemoError(`${crashed.child.name} exited unexpectedly (${crashed.exit.signal ?? `code ${crashed.exit.code}`}). See ${crashed.child.logFile}`);
}

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal);
// Last resort: never leave a service running when this process goes away without stopping them.
process.on('exit', () => {
  for (const child of children) if (!child.hasExited()) child.kill();
});

main().catch(async (error: unknown) => {
  if (stopping) return;
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`demo: ${message}\n`);
  stopping = stopAll();
  await stopping;
  process.exit(1);
});
