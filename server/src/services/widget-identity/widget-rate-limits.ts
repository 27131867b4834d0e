import type { Kysely } from 'kysely';
import { AppError } from '../../errors/app-error.ts';
import type { ProjectsRepository } from '../../store/projects-repository.ts';
import type { Database } from '../../store/schema.ts';
import type { RateRule } from '../rate-limiter.ts';

/** Defaults when the project sets no `rateLimits`: per-minute rates, and caps on a widget app's pending/running tasks. */
export const DEFAULT_WIDGET_RATE_LIMITS = {
  tokenPerMinute: 60,
  tasksPerMinute: 20,
  followUpsPerMinute: 20,
  approvalsPerMinute: 60,
  maxActiveTasksPerApp: 20,
  maxActiveTasksPerEndUser: 2,
} as const;

/** What a visitor's request does to a task, each limited on its own. */
export type TaskAction = 'create' | 'follow-up' | 'approval';

const MINUTE_MS = 60_000;
// Seconds a client is told to wait past a concurrency cap: about one short turn.
const CONCURRENCY_RETRY_AFTER_S = 10;

/** The project's widget rate rules and concurrency caps (its `rateLimits` over the defaults). */
export async function resolveWidgetRateLimits(
  projects: ProjectsRepository,
  project: string,
): Promise<{ token: RateRule; tasks: RateRule; followUps: RateRule; approvals: RateRule; maxActivePerApp: number; maxActivePerEndUser: number }> {
  const limits = (await projects.find(project))?.config.rateLimits;
  const defaults = DEFAULT_WIDGET_RATE_LIMITS;
  return {
    token: { limit: limits?.tokenPerMinute ?? defaults.tokenPerMinute, windowMs: MINUTE_MS },
    tasks: { limit: limits?.tasksPerMinute ?? defaults.tasksPerMinute, windowMs: MINUTE_MS },
    followUps: { limit: limits?.followUpsPerMinute ?? defaults.followUpsPerMinute, windowMs: MINUTE_MS },
    approvals: { limit: limits?.approvalsPerMinute ?? defaults.approvalsPerMinute, windowMs: MINUTE_MS },
    maxActivePerApp: limits?.maxActiveTasksPerApp ?? defaults.maxActiveTasksPerApp,
    maxActivePerEndUser: limits?.maxActiveTasksPerEndUser ?? defaults.maxActiveTasksPerEndUser,
  };
}

/**
 * Refuses a widget task start (create or follow-up) past the app's or the end user's cap on pending and
 * running tasks, so a few anonymous visitors cannot fill the runner's queue and the host's memory.
 */
export async function enforceWidgetConcurrency(
  db: Kysely<Database>,
  principal: { appId: string; endUserId: string },
  caps: { maxActivePerApp: number; maxActivePerEndUser: number },
): Promise<void> {
  const rows = await db
    .selectFrom('tasks')
    .select(['end_user_id'])
    .where('app_id', '=', principal.appId)
    .where('status', 'in', ['pending', 'running'])
    .limit(caps.maxActivePerApp)
    .execute();
  const headers = { 'Retry-After': String(CONCURRENCY_RETRY_AFTER_S) };
  const mine = rows.filter((row) => row.end_user_id === principal.endUserId).length;
  if (mine >= caps.maxActivePerEndUser) {
    throw new AppError('RATE_LIMITED', `Too many running tasks for this end user of widget app ${principal.appId}: the limit is ${caps.maxActivePerEndUser}; wait until one finishes`, { headers });
  }
  if (rows.length >= caps.maxActivePerApp) {
    throw new AppError('RATE_LIMITED', `Too many running tasks for widget app ${principal.appId}: the limit is ${caps.maxActivePerApp}; retry shortly`, { headers });
  }
}
