import type { ProjectsRepository } from '../../store/projects-repository.ts';
import type { RateRule } from '../rate-limiter.ts';

/** Defaults when the project sets no `rateLimits`: token exchanges per app and task creations per end user, per minute. */
export const DEFAULT_WIDGET_RATE_LIMITS = { tokenPerMinute: 60, tasksPerMinute: 20 } as const;

const MINUTE_MS = 60_000;

/** The project's widget rate rules (its `rateLimits` over the defaults). */
export async function resolveWidgetRateLimits(projects: ProjectsRepository, project: string): Promise<{ token: RateRule; tasks: RateRule }> {
  const limits = (await projects.find(project))?.config.rateLimits;
  return {
    token: { limit: limits?.tokenPerMinute ?? DEFAULT_WIDGET_RATE_LIMITS.tokenPerMinute, windowMs: MINUTE_MS },
    tasks: { limit: limits?.tasksPerMinute ?? DEFAULT_WIDGET_RATE_LIMITS.tasksPerMinute, windowMs: MINUTE_MS },
  };
}
