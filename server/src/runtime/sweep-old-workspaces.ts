import fs from 'node:fs/promises';
import path from 'node:path';
import { removeTree } from './workspace/remove-tree.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

/** What the workspace retention sweep needs. */
export interface WorkspaceRetentionOptions {
  db: Kysely<Database>;
  workspacesDir: string;
  /** Workspaces of finished tasks idle longer than this are removed; 0 turns the sweep off. */
  retentionDays: number;
  logger: { info(fields: Record<string, unknown>, message: string): void; warn(fields: Record<string, unknown>, message: string): void };
  intervalMs?: number;
}

const TERMINAL_STATUSES = ['completed', 'failed', 'cancelled'];
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
const BATCH = 500;

/** Removes the workspaces of terminal tasks idle past the retention; returns how many were removed. */
export async function sweepOldWorkspaces(options: Omit<WorkspaceRetentionOptions, 'intervalMs'>): Promise<number> {
  if (options.retentionDays <= 0) return 0;
  const cutoff = new Date(Date.now() - options.retentionDays * 24 * 60 * 60 * 1000).toISOString();
  let removed = 0;
  let after = '';
  // Paged by id so a large backlog is walked in bounded batches; rows stay (the task and its history remain).
  for (let page = 0; page < 10_000; page++) {
    const rows = await options.db
      .selectFrom('tasks')
      .select('id')
      .where('status', 'in', TERMINAL_STATUSES)
      .where('last_activity_at', '<', cutoff)
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    for (const { id } of rows) {
      const dir = path.join(options.workspacesDir, id);
      if (path.dirname(dir) !== options.workspacesDir) continue;
      const existed = await fs.lstat(dir).then(
        () => true,
        () => false,
      );
      if (!existed) continue;
      // One workspace that cannot be removed must not keep every later one of every tenant.
      try {
        await removeTree(dir);
        removed++;
      } catch (error) {
        options.logger.warn({ error, taskId: id }, 'could not remove the workspace of a task idle past the retention');
      }
    }
    if (rows.length < BATCH) break;
    after = rows[rows.length - 1]?.id ?? after;
  }
  if (removed > 0) options.logger.info({ removed, retentionDays: options.retentionDays }, 'removed workspaces of tasks idle past the retention');
  return removed;
}

/** Sweeps at start and then hourly (CONCIERGE_WORKSPACE_RETENTION_DAYS); `stop` ends it. */
export function startWorkspaceRetention(options: WorkspaceRetentionOptions): { stop(): void } {
  if (options.retentionDays <= 0) return { stop() {} };
  const run = () => void sweepOldWorkspaces(options).catch((error: unknown) => options.logger.warn({ error }, 'workspace retention sweep failed'));
  run();
  const timer = setInterval(run, options.intervalMs ?? SWEEP_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
