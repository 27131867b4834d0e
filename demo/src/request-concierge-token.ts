import type { DemoUser } from './demo-user.ts';

/** Where the site's backend finds Concierge and the widget app's credentials (never sent to browsers). */
export interface ConciergeCredentials {
  conciergeUrl: string;
  appId: string;
  appSecret: string;
}

/** A short-lived widget token for one end user, as the browser receives it. */
export interface ConciergeToken {
  token: string;
  expiresAt: string;
}

/** Concierge refused the exchange; `code` is the API's error code (e.g. `INVALID_CREDENTIALS`). */
export class TokenExchangeError extends Error {
  override name = 'TokenExchangeError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

const TOKEN_LIFETIME = '15m';

/**
 * Swaps the app's credentials for a widget JWT scoped to `user` (sigmic-api §2.10). The `env` values
 * reach the agent's sandbox; the `secrets` are stored encrypted by Concierge and never reach the browser.
 */
export async function requestConciergeToken(credentials: ConciergeCredentials, user: DemoUser, signal?: AbortSignal): Promise<ConciergeToken> {
  const response = await fetch(`${credentials.conciergeUrl}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      appId: credentials.appId,
      appSecret: credentials.appSecret,
      endUserId: user.id,
      expiresIn: TOKEN_LIFETIME,
      env: { CUSTOMER_NAME: user.name, CUSTOMER_TIER: user.tier, CUSTOMER_EMAIL: user.email },
      // In a real shop this would be a per-user token for your own APIs, fetched from your vault.
      secrets: { ORDERS_API_TOKEN: `demo-orders-token-for-${user.id}` },
    }),
    signal: signal ?? AbortSignal.timeout(10_000),
  });
  const body = (await response.json().catch(() => undefined)) as
    | { success?: boolean; data?: Partial<ConciergeToken>; error?: { code?: string; message?: string } }
    | undefined;
  const token = body?.data?.token;
  const expiresAt = body?.data?.expiresAt;
  if (!response.ok || typeof token !== 'string' || typeof expiresAt !== 'string') {
    const code = body?.error?.code ?? 'UNEXPECTED_RESPONSE';
    throw new TokenExchangeError(`Concierge token exchange failed (${response.status} ${code}): ${body?.error?.message ?? 'no message'}`, response.status, code);
  }
  return { token, expiresAt };
}
