import { parseArgs } from 'node:util';
import { createWidgetAppsService } from '../services/widget-apps/widget-apps-service.ts';
import type { openDatabase } from '../store/open-database.ts';
import { createProjectsRepository } from '../store/projects-repository.ts';
import { createWidgetAppsRepository } from '../store/widget-apps-repository.ts';

/** What `main.ts` lends each command: the database, output and its usage error. */
export interface CommandHelpers {
  withDatabase<T>(work: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T>;
  print(json: boolean, object: Record<string, unknown>, text: string): void;
  UsageError: new (message: string) => Error;
}

/**
 * `concierge apps create --project P --name N --origin URL… [--json]`, `concierge apps origins APP_ID --origin URL…
 * [--json]` (replaces the allowed origins, keeping the app) and `concierge apps revoke APP_ID [--json]`.
 */
export async function appsCommand(args: string[], helpers: CommandHelpers): Promise<void> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      project: { type: 'string' },
      name: { type: 'string' },
      origin: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (action === 'create') {
    if (!values.project) throw new helpers.UsageError('apps create needs --project');
    if (!values.name) throw new helpers.UsageError('apps create needs --name');
    if (!values.origin || values.origin.length === 0) throw new helpers.UsageError('apps create needs at least one --origin, e.g. --origin https://shop.example.com');
    if (positionals.length > 0) throw new helpers.UsageError(`apps create takes no positional arguments, got "${positionals[0]}"`);
    const { project, name, origin } = values;
    const app = await helpers.withDatabase(({ db }) =>
      createWidgetAppsService({ apps: createWidgetAppsRepository(db), projects: createProjectsRepository(db) }).create({ project, name, origins: origin }),
    );
    helpers.print(
      values.json!,
      { appId: app.id, appSecret: app.secret, project: app.project, origins: app.origins },
      [
        `Widget app "${app.name}" for project ${app.project}`,
        `appId:     ${app.id}`,
        `appSecret: ${app.secret}   (shown once: keep it on your backend, never in the browser)`,
        `origins:   ${app.origins.join(' ')}`,
      ].join('\n'),
    );
  } else if (action === 'origins') {
    const id = positionals[0];
    if (!id || positionals.length > 1) throw new helpers.UsageError('apps origins needs exactly one app id');
    if (!values.origin || values.origin.length === 0) throw new helpers.UsageError('apps origins needs at least one --origin (the full new list)');
    const origins = values.origin;
    const app = await helpers.withDatabase(({ db }) =>
      createWidgetAppsService({ apps: createWidgetAppsRepository(db), projects: createProjectsRepository(db) }).setOrigins(id, origins),
    );
    helpers.print(values.json!, { appId: app.id, origins: app.origins }, `Widget app ${app.id} now allows: ${app.origins.join(' ')}`);
  } else if (action === 'revoke') {
    const id = positionals[0];
    if (!id || positionals.length > 1) throw new helpers.UsageError('apps revoke needs exactly one app id');
    await helpers.withDatabase(({ db }) => createWidgetAppsService({ apps: createWidgetAppsRepository(db), projects: createProjectsRepository(db) }).revoke(id));
    helpers.print(values.json!, { appId: id, revoked: true }, `Revoked widget app ${id}: its tokens stop working at once`);
  } else {
    throw new helpers.UsageError(`unknown apps command "${action ?? ''}"`);
  }
}
