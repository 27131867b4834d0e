import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { AppError } from '../errors/app-error.ts';
import { createLogger } from '../logging/logger.ts';
import { closeInheritedDescriptors } from '../runtime/sandbox/close-inherited-descriptors.ts';
import { SandboxUnavailableError } from '../runtime/sandbox/sandbox-unavailable-error.ts';
import { createApiKeysService } from '../services/api-keys/api-keys-service.ts';
import { projectFileSchema } from '../store/project-config.ts';
import { createApiKeysRepository } from '../store/api-keys-repository.ts';
import { openDatabase } from '../store/open-database.ts';
import { createProjectsRepository } from '../store/projects-repository.ts';
import { appsCommand } from './apps-command.ts';

const USAGE = `Usage: concierge <command>

  serve                                            run the API server until SIGTERM/SIGINT
  keys create --project P [--name N] [--expires-in 30d] [--json]
  keys revoke ID [--json]
  apps create --project P --name N --origin URL [--origin URL …] [--json]
  apps origins APP_ID --origin URL [--origin URL …] [--json]
  apps revoke APP_ID [--json]
  projects apply FILE [--json]
`;

class UsageError extends Error {}

// Past the drain: time to close the database and sockets after aborting what still runs.
const SHUTDOWN_GRACE_MS = 5_000;

function print(json: boolean, object: Record<string, unknown>, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(object)}\n` : `${text}\n`);
}

async function withDatabase<T>(work: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}

async function serve(): Promise<void> {
  // First, before anything is opened: nothing this process inherited may reach a sandboxed command.
  const inherited = closeInheritedDescriptors();
  const config = loadConfig();
  // Loaded here so the short commands (keys, apps, projects) start without the agent runtime.
  const { createServer, SHUTDOWN_DRAIN_MS } = await import('../create-server.ts');
  const logger = createLogger({ level: config.logLevel });
  if (inherited.length > 0) logger.warn({ descriptors: inherited }, 'closed file descriptors inherited from the process that started the server, so sandboxed commands cannot use them');
  const server = await createServer(config, logger);
  const url = await server.listen();
  const { enforcement } = server.sandbox;
  if (server.sandbox.mode === 'unsafe-host') {
    logger.warn({ sandbox: 'unsafe-host' }, 'CONCIERGE_SANDBOX=unsafe-host: agent shell commands run on this host WITHOUT isolation. Never use this in production.');
  }
  logger.info({ url, sandbox: { mode: server.sandbox.mode, ...enforcement }, model: server.modelLabel, dataDir: config.dataDir }, 'concierge listening');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining running tasks');
    // A backstop: whatever hangs past the drain (a stuck close, a blocked thread), the process still exits.
    setTimeout(() => {
      logger.error({ signal }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_DRAIN_MS + SHUTDOWN_GRACE_MS).unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function keys(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { project: { type: 'string' }, name: { type: 'string' }, 'expires-in': { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  await withDatabase(async ({ db }) => {
    const service = createApiKeysService({ apiKeys: createApiKeysRepository(db), projects: createProjectsRepository(db) });
    if (action === 'create') {
      if (!values.project) throw new UsageError('keys create needs --project');
      const created = await service.create({ project: values.project, ...(values.name ? { name: values.name } : {}), ...(values['expires-in'] ? { expiresIn: values['expires-in'] } : {}) });
      print(values.json!, { id: created.id, key: created.key, project: created.project }, `API key for project ${created.project} (shown once, keep it safe):\n${created.key}\nid: ${created.id}`);
    } else if (action === 'revoke') {
      const id = positionals[0];
      if (!id) throw new UsageError('keys revoke needs the key id');
      await service.revoke(id);
      print(values.json!, { id, revoked: true }, `Revoked API key ${id}`);
    } else throw new UsageError(`unknown keys command "${action ?? ''}"`);
  });
}

async function projects(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
  if (action !== 'apply') throw new UsageError(`unknown projects command "${action ?? ''}"`);
  const file = positionals[0];
  if (!file) throw new UsageError('projects apply needs a FILE');
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new AppError('VALIDATION_ERROR', `Cannot read project file ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = projectFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('VALIDATION_ERROR', `Invalid project file ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  await withDatabase(async ({ db }) => {
    const repository = createProjectsRepository(db);
    for (const [name, config] of Object.entries(parsed.data.projects)) await repository.upsert(name, config);
  });
  const names = Object.keys(parsed.data.projects);
  print(values.json!, { projects: names }, `Applied ${names.length} project(s): ${names.join(', ')}`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'serve') await serve();
    else if (command === 'keys') await keys(rest);
    else if (command === 'projects') await projects(rest);
    else if (command === 'apps') await appsCommand(rest, { withDatabase, print, UsageError });
    else if (command === undefined || command === 'help' || command === '--help') {
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    } else throw new UsageError(`unknown command "${command}"`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error instanceof Error && 'code' in error && String((error as { code: unknown }).code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`concierge: ${error.message}\n${USAGE}`);
      return 2;
    }
    const known = error instanceof AppError || error instanceof ConfigError || error instanceof SandboxUnavailableError;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`concierge: ${known ? message : `unexpected error: ${message}`}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code !== 0 || process.argv[2] !== 'serve') process.exitCode = code;
