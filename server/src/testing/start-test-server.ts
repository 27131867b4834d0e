import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { type ConciergeServer, createServer } from '../create-server.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import { createApiKeysService } from '../services/api-keys/api-keys-service.ts';
import { projectFileSchema } from '../store/project-config.ts';
import { createApiKeysRepository } from '../store/api-keys-repository.ts';
import { openDatabase } from '../store/open-database.ts';
import { createProjectsRepository } from '../store/projects-repository.ts';

export interface TestServer {
  url: string;
  /** An API key of project `default`. */
  apiKey: string;
  dataDir: string;
  server: ConciergeServer;
  logLines: string[];
  /** Creates another API key (for another project). */
  createApiKey(project: string): Promise<string>;
  /** Stops the server and deletes its data dir. */
  close(): Promise<void>;
  /** Stops the server, keeping the data dir (to start another on it). */
  stop(): Promise<void>;
}

/** Starts a real server in-process on a free port with a fresh data dir (scripted model without delays by default). */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { dataDir?: string; apiKey?: string; projects?: Record<string, unknown> } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'concierge-test-')));
  const config = loadConfig({
    CONCIERGE_MODEL: 'scripted:fast',
    CONCIERGE_MODEL_RETRY_DELAY_MS: '10',
    ...env,
    CONCIERGE_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
  });
  const logLines: string[] = [];
  const logger: Logger = createLogger({ level: 'debug', write: (line) => logLines.push(line) });
  const createApiKey = async (project: string) => {
    const database = await openDatabase({ dataDir, databaseUrl: config.databaseUrl });
    try {
      const service = createApiKeysService({ apiKeys: createApiKeysRepository(database.db), projects: createProjectsRepository(database.db) });
      return (await service.create({ project })).key;
    } finally {
      await database.close();
    }
  };
  const apiKey = options.apiKey ?? (await createApiKey('default'));
  if (options.projects) {
    const database = await openDatabase({ dataDir, databaseUrl: config.databaseUrl });
    try {
      const repository = createProjectsRepository(database.db);
      for (const [name, project] of Object.entries(projectFileSchema.parse({ projects: options.projects }).projects)) await repository.upsert(name, project);
    } finally {
      await database.close();
    }
  }
  const server = await createServer(config, logger);
  const url = await server.listen();
  return {
    url,
    apiKey,
    dataDir,
    server,
    logLines,
    createApiKey,
    stop: () => server.close(),
    async close() {
      await server.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
