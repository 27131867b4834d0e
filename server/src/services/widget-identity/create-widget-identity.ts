import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Kysely } from 'kysely';
import type { Config } from '../../config.ts';
import type { WidgetTokenAuth } from '../../http/middleware/authenticate.ts';
import type { Logger } from '../../logging/logger.ts';
import type { ProjectsRepository } from '../../store/projects-repository.ts';
import type { Database } from '../../store/schema.ts';
import type { TaskRow } from '../../store/tasks-repository.ts';

/** Everything the widget identity feature plugs into the server. */
export interface WidgetIdentity {
  widgetAuth: WidgetTokenAuth | undefined;
  publicRouters: Router[];
  beforeRoutes: Middleware[];
  onTaskCreate: ((ctx: Context) => void | Promise<void>) | undefined;
  resolveContext: ((task: TaskRow) => Promise<{ env: Record<string, string>; secrets: Record<string, string> }>) | undefined;
  jwtConfigured: boolean;
}

/** Widget apps, token exchange, JWT verification, origins (being built in the widget identity issue). */
export async function createWidgetIdentity(_deps: { db: Kysely<Database>; projects: ProjectsRepository; config: Config; logger: Logger }): Promise<WidgetIdentity> {
  return { widgetAuth: undefined, publicRouters: [], beforeRoutes: [], onTaskCreate: undefined, resolveContext: undefined, jwtConfigured: false };
}
