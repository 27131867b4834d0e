import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../../errors/app-error.ts';
import type { SigningKeys } from './signing-keys.ts';

export const WIDGET_JWT_ALGORITHM = 'HS256';
export const WIDGET_JWT_ISSUER = 'concierge';
export const WIDGET_JWT_AUDIENCE = 'concierge-widget';
// Servers of one deployment may disagree on the time by a few seconds.
const CLOCK_TOLERANCE_S = 5;
/** A token issued further in the future than this is refused: no honest clock is that far ahead. */
export const MAX_IAT_SKEW_S = 60;
/** The longest lifetime (`exp - iat`) a widget token may claim; the token exchange issues at most this. */
export const MAX_WIDGET_TOKEN_LIFETIME_MS = 7 * 86_400_000;

/** What a verified widget token says: which end user of which app (and so which project). */
export interface WidgetTokenClaims {
  endUserId: string;
  appId: string;
  project: string;
  jti: string;
  expiresAt: Date;
}

/** Signs a widget JWT (HS256, `kid` header; iss, aud, sub = end user, app, project, jti, iat, exp). It carries no env or secrets. */
export async function signWidgetJwt(
  keys: SigningKeys,
  input: { endUserId: string; appId: string; project: string; lifetimeMs: number; now?: Date },
): Promise<{ token: string; jti: string; expiresAt: Date }> {
  const issuedAt = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const expiresAtSeconds = issuedAt + Math.ceil(input.lifetimeMs / 1000);
  const jti = randomUUID();
  const token = await new SignJWT({ app: input.appId, project: input.project })
    .setProtectedHeader({ alg: WIDGET_JWT_ALGORITHM, typ: 'JWT', kid: keys.current.id })
    .setIssuer(WIDGET_JWT_ISSUER)
    .setAudience(WIDGET_JWT_AUDIENCE)
    .setSubject(input.endUserId)
    .setJti(jti)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAtSeconds)
    .sign(keys.current.key);
  return { token, jti, expiresAt: new Date(expiresAtSeconds * 1000) };
}

/**
 * Verifies a widget JWT: HS256 only (so `alg: none` and public-key algorithms are refused), a key known
 * by its `kid`, our issuer and audience, and exp / nbf / iat against the clock. Throws INVALID_TOKEN.
 */
export async function verifyWidgetJwt(keys: SigningKeys, token: string, now?: Date): Promise<WidgetTokenClaims> {
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.alg === WIDGET_JWT_ALGORITHM ? keys.find(header.kid) : undefined;
        if (!key) throw new AppError('INVALID_TOKEN', 'The widget token was not signed by this server');
        return key.key;
      },
      {
        algorithms: [WIDGET_JWT_ALGORITHM],
        issuer: WIDGET_JWT_ISSUER,
        audience: WIDGET_JWT_AUDIENCE,
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
        clockTolerance: CLOCK_TOLERANCE_S,
        ...(now ? { currentDate: now } : {}),
      },
    );
    const { sub, app, project, jti, exp, iat } = payload;
    if (typeof sub !== 'string' || sub === '' || typeof app !== 'string' || typeof project !== 'string' || typeof jti !== 'string' || typeof exp !== 'number') {
      throw new AppError('INVALID_TOKEN', 'The widget token lacks its end user, app or project');
    }
    // jose checks exp and nbf but not a future iat; a token minted "later" would outlive its lifetime.
    const nowSeconds = Math.floor((now ?? new Date()).getTime() / 1000);
    if (typeof iat !== 'number' || iat > nowSeconds + MAX_IAT_SKEW_S) throw new AppError('INVALID_TOKEN', 'The widget token was issued in the future');
    if (exp - iat > MAX_WIDGET_TOKEN_LIFETIME_MS / 1000) throw new AppError('INVALID_TOKEN', 'The widget token claims a lifetime over the 7 day maximum');
    return { endUserId: sub, appId: app, project, jti, expiresAt: new Date(exp * 1000) };
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof errors.JWTExpired) throw new AppError('INVALID_TOKEN', 'The widget token has expired: fetch a new one', { cause: error });
    throw new AppError('INVALID_TOKEN', 'The widget token is invalid', { cause: error });
  }
}
