import type { TaskScope } from '../../store/tasks-repository.ts';

/** Who is calling: a server backend with an API key, or a browser with a widget JWT. */
export type Principal =
  | { kind: 'api_key'; project: string; apiKeyId: string; username: string }
  | { kind: 'widget'; project: string; appId: string; endUserId: string };

/** The tasks a principal may see (contract: "Visibility"). */
export function toTaskScope(principal: Principal): TaskScope {
  return principal.kind === 'api_key'
    ? { project: principal.project }
    : { project: principal.project, appId: principal.appId, endUserId: principal.endUserId };
}
