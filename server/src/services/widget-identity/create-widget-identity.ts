import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Kysely } from 'kysely';
import type { Config } from '../../config.ts';
import type { WidgetTokenAuth } from '../../http/middleware/authenticate.ts';
import { cors } from '../../http/middleware/cors.ts';
import { createOriginPolicy } from '../../http/origin-policy.ts';
import { createAuthRouter } from '../../http/routes/auth-routes.ts';
import type { Logger } from '../../logging/logger.ts';
import { createEndUserContextsRepository } from '../../store/end-user-contexts-repository.ts';
import type { ProjectsRepository } from '../../store/projects-repository.ts';
import type { Database } from '../../store/schema.ts';
import type { TaskRow } from '../../store/tasks-repository.ts';
import { createWidgetAppsRepository } from '../../store/widget-apps-repository.ts';
import { createRateLimiter } from '../rate-limiter.ts';
import type { Principal } from '../tasks/principal.ts';
import type { TaskAction } from './widget-rate-limits.ts';
import { createWidgetAppsService, type WidgetAppsService } from '../widget-apps/widget-apps-service.ts';
import { createEndUserContextStore } from '../widget-tokens/end-user-context-store.ts';
import { createSecretBox } from '../widget-tokens/secret-box.ts';
import { loadServerSecrets } from '../widget-tokens/server-secrets.ts';
import { createSigningKeys } from '../widget-tokens/signing-keys.ts';
import { createWidgetTokenAuth } from '../widget-tokens/widget-token-auth.ts';
import { createWidgetTokenService, type WidgetTokenService } from '../widget-tokens/widget-token-service.ts';
import { enforceWidgetConcurrency, resolveWidgetRateLimits } from './widget-rate-limits.ts';

/** Everything the widget identity feature plugs into the server. */
export interface WidgetIdentity {
  /** The server's key material (JWT secrets, current first), also keying secret fingerprints; empty when none is configured. */
  keyMaterial: readonly string[];
  widgetAuth: WidgetTokenAuth | undefined;
  publicRouters: Router[];
  beforeRoutes: Middleware[];
  /** Rate and concurrency limits of widget traffic, before a task is created, followed up or approved. */
  onTaskCreate: ((ctx: Context, action?: TaskAction) => void | Promise<void>) | undefined;
  resolveContext: ((task: TaskRow) => Promise<{ env: Record<string, string>; secrets: Record<string, string> }>) | undefined;
  jwtConfigured: boolean;
  /** Widget apps of this server (creating one here refreshes the CORS origin set at once). */
  apps: WidgetAppsService;
  tokens: WidgetTokenService;
}

/** Widget apps, the token exchange, JWT verification with the origin check, CORS, end-user env/secrets and rate limits. */
export async function createWidgetIdentity(deps: { db: Kysely<Database>; projects: ProjectsRepository; config: Config; logger: Logger }): Promise<WidgetIdentity> {
  const { projects, logger } = deps;
  const serverSecrets = await loadServerSecrets({ jwtSecret: deps.config.jwtSecret, dataDir: deps.config.dataDir, logger });
  const keys = serverSecrets && createSigningKeys(serverSecrets.secrets);
  if (serverSecrets && keys) {
    logger.info({ source: serverSecrets.source, kid: keys.current.id, verificationKeys: serverSecrets.secrets.length }, 'widget token signing ready');
  }
  const contexts =
    serverSecrets &&
    createEndUserContextStore({ repository: createEndUserContextsRepository(deps.db), box: createSecretBox(serverSecrets.secrets), logger });

  const originPolicy = createOriginPolicy({ loadPatterns: () => apps.listAllOrigins() });
  const apps = createWidgetAppsService({ apps: createWidgetAppsRepository(deps.db), projects, onChange: () => originPolicy.invalidate() });

  const limiter = createRateLimiter({ db: deps.db, kind: deps.config.databaseUrl ? 'postgres' : 'sqlite' });
  const tokens = createWidgetTokenService({ apps, contexts, keys, projects, limiter, logger });

  return {
    keyMaterial: serverSecrets?.secrets ?? [],
    widgetAuth: createWidgetTokenAuth({ keys, apps }),
    publicRouters: [createAuthRouter({ tokens })],
    beforeRoutes: [cors(originPolicy)],
    async onTaskCreate(ctx, action = 'create') {
      const principal = ctx.state.principal as Principal;
      if (principal.kind !== 'widget') return;
      const rules = await resolveWidgetRateLimits(projects, principal.project);
      const who = `this end user of widget app ${principal.appId}`;
      if (action === 'approval') {
        await limiter.take(`approvals:${principal.appId}:${principal.endUserId}`, rules.approvals, `approval decisions by ${who}`);
        return;
      }
      if (action === 'follow-up') await limiter.take(`follow-ups:${principal.appId}:${principal.endUserId}`, rules.followUps, `follow-up messages by ${who}`);
      else await limiter.take(`tasks:${principal.appId}:${principal.endUserId}`, rules.tasks, `tasks created by ${who}`);
      await enforceWidgetConcurrency(deps.db, principal, { maxActivePerApp: rules.maxActivePerApp, maxActivePerEndUser: rules.maxActivePerEndUser });
    },
    resolveContext: contexts
      ? async (task) => (task.app_id !== null && task.end_user_id !== null ? contexts.load(task.app_id, task.end_user_id) : { env: {}, secrets: {} })
      : undefined,
    jwtConfigured: keys !== undefined,
    apps,
    tokens,
  };
}
