import { AppError } from '../../errors/app-error.ts';
import type { Principal } from '../tasks/principal.ts';
import { isOriginAllowed } from '../widget-apps/origin-pattern.ts';
import type { WidgetAppsService } from '../widget-apps/widget-apps-service.ts';
import type { SigningKeys } from './signing-keys.ts';
import { verifyWidgetJwt } from './widget-jwt.ts';

/** Turns a widget JWT plus the request's Origin into a widget principal (implements the HTTP layer's WidgetTokenAuth). */
export function createWidgetTokenAuth(deps: { keys: SigningKeys | undefined; apps: WidgetAppsService }) {
  return {
    /** Throws JWT_NOT_CONFIGURED, INVALID_TOKEN (bad, expired, or its app revoked) or ORIGIN_NOT_ALLOWED (missing or foreign Origin). */
    async authenticate(token: string, origin: string | undefined): Promise<Extract<Principal, { kind: 'widget' }>> {
      if (!deps.keys) throw new AppError('JWT_NOT_CONFIGURED', 'This server has no widget token signing secret: set CONCIERGE_JWT_SECRET or make the data dir writable');
      const claims = await verifyWidgetJwt(deps.keys, token);
      const app = await deps.apps.find(claims.appId);
      if (!app || app.project !== claims.project) throw new AppError('INVALID_TOKEN', `The widget app ${claims.appId} of this token no longer exists or was revoked`);
      if (!origin) {
        throw new AppError('ORIGIN_NOT_ALLOWED', `Widget tokens are accepted only from the allowed origins of app ${app.id}, and this request has no Origin header`);
      }
      if (!isOriginAllowed(app.origins, origin)) {
        throw new AppError('ORIGIN_NOT_ALLOWED', `Origin ${origin.slice(0, 200)} is not an allowed origin of widget app ${app.id}`);
      }
      return { kind: 'widget', project: app.project, appId: app.id, endUserId: claims.endUserId };
    },

    /** Throws INVALID_TOKEN when the principal's app was revoked (or moved to another project) since it authenticated. */
    async checkActive(principal: Extract<Principal, { kind: 'widget' }>): Promise<void> {
      const app = await deps.apps.find(principal.appId);
      if (!app || app.project !== principal.project) throw new AppError('INVALID_TOKEN', `The widget app ${principal.appId} of this token was revoked`);
    },
  };
}
