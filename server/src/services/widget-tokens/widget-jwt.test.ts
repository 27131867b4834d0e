import { generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createSigningKeys } from './signing-keys.ts';
import { MAX_IAT_SKEW_S, MAX_WIDGET_TOKEN_LIFETIME_MS, signWidgetJwt, verifyWidgetJwt, WIDGET_JWT_AUDIENCE, WIDGET_JWT_ISSUER } from './widget-jwt.ts';

const SECRET = 'a'.repeat(32) + '-primary-secret';
const OTHER_SECRET = 'b'.repeat(32) + '-another-deployment';
const keys = createSigningKeys([SECRET]);
const input = { endUserId: 'user-1', appId: 'app_000000000000000000000001', project: 'default', lifetimeMs: 3_600_000 };

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

async function expectInvalid(token: string, message?: RegExp) {
  const error = await verifyWidgetJwt(keys, token).catch((caught: unknown) => caught);
  expect(error).toMatchObject({ code: 'INVALID_TOKEN', status: 401 });
  if (message) expect((error as Error).message).toMatch(message);
}

/** A correctly signed token with chosen claims (to test claim checks rather than signature checks). */
function signWith(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: keys.current.id, ...header }).sign(keys.current.key);
}

describe('signWidgetJwt', () => {
  it('signs HS256 with a kid and the documented claims, and nothing else', async () => {
    const now = new Date('2026-01-26T15:50:54.870Z');
    const { token, jti, expiresAt } = await signWidgetJwt(keys, { ...input, now });
    expect(token.startsWith('eyJ')).toBe(true);
    const [header, payload] = token.split('.');
    expect(decode(header!)).toEqual({ alg: 'HS256', typ: 'JWT', kid: keys.current.id });
    const iat = Math.floor(now.getTime() / 1000);
    expect(decode(payload!)).toEqual({
      iss: WIDGET_JWT_ISSUER,
      aud: WIDGET_JWT_AUDIENCE,
      sub: 'user-1',
      app: input.appId,
      project: 'default',
      jti,
      iat,
      exp: iat + 3600,
    });
    expect(expiresAt.toISOString()).toBe(new Date((iat + 3600) * 1000).toISOString());
  });

  it('gives each token its own jti', async () => {
    const first = await signWidgetJwt(keys, input);
    const second = await signWidgetJwt(keys, input);
    expect(first.jti).not.toBe(second.jti);
  });
});

describe('verifyWidgetJwt', () => {
  it('returns the end user, app and project of a valid token', async () => {
    const { token, jti } = await signWidgetJwt(keys, input);
    await expect(verifyWidgetJwt(keys, token)).resolves.toMatchObject({ endUserId: 'user-1', appId: input.appId, project: 'default', jti });
  });

  it('rejects alg "none" with INVALID_TOKEN', async () => {
    const { token } = await signWidgetJwt(keys, input);
    const payload = token.split('.')[1]!;
    await expectInvalid(`${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`);
    await expectInvalid(`${b64({ alg: 'none', typ: 'JWT', kid: keys.current.id })}.${payload}.`);
  });

  it('rejects an RS256-labelled token, whether signed with an RSA key or HMAC-signed with the secret', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const claims = { iss: WIDGET_JWT_ISSUER, aud: WIDGET_JWT_AUDIENCE, sub: 'user-1', app: input.appId, project: 'default', jti: 'x' };
    const rsa = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: keys.current.id }).setIssuedAt().setExpirationTime('1h').sign(privateKey);
    await expectInvalid(rsa);
    // Algorithm confusion: a genuine HS256 signature under a header that claims RS256.
    const genuine = (await signWidgetJwt(keys, input)).token.split('.');
    await expectInvalid(`${b64({ alg: 'RS256', typ: 'JWT', kid: keys.current.id })}.${genuine[1]}.${genuine[2]}`);
    // HS512 with the same key is not our algorithm either.
    const hs512 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS512', kid: keys.current.id }).setIssuedAt().setExpirationTime('1h').sign(keys.current.key);
    await expectInvalid(hs512);
  });

  it('rejects a token signed with a foreign key, with or without our kid', async () => {
    const foreign = createSigningKeys([OTHER_SECRET]);
    const { token } = await signWidgetJwt(foreign, input);
    await expectInvalid(token, /not signed by this server/);
    const borrowedKid = await new SignJWT({ app: input.appId, project: 'default' })
      .setProtectedHeader({ alg: 'HS256', kid: keys.current.id })
      .setIssuer(WIDGET_JWT_ISSUER)
      .setAudience(WIDGET_JWT_AUDIENCE)
      .setSubject('user-1')
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(foreign.current.key);
    await expectInvalid(borrowedKid);
    // The raw server secret is not the signing key either (it is derived with HKDF).
    const rawSecret = await signWith({ iss: WIDGET_JWT_ISSUER, aud: WIDGET_JWT_AUDIENCE, sub: 'u', app: 'a', project: 'p', jti: 'j', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 });
    await expect(verifyWidgetJwt(keys, rawSecret)).resolves.toBeDefined();
    const [rawHeader, rawPayload] = rawSecret.split('.');
    const withRawSecret = await new SignJWT(decode(rawPayload!)).setProtectedHeader(decode(rawHeader!) as { alg: string }).sign(new TextEncoder().encode(SECRET));
    await expectInvalid(withRawSecret);
  });

  it('rejects a token whose subject (or app) was changed after signing', async () => {
    const { token } = await signWidgetJwt(keys, input);
    const [header, payload, signature] = token.split('.');
    await expectInvalid(`${header}.${b64({ ...decode(payload!), sub: 'user-2' })}.${signature}`);
    await expectInvalid(`${header}.${b64({ ...decode(payload!), app: 'app_000000000000000000000002' })}.${signature}`);
    await expectInvalid(`${header}.${payload}.${signature!.slice(0, -2)}${signature!.endsWith('AA') ? 'BB' : 'AA'}`);
  });

  it('rejects an expired token and says so', async () => {
    const { token } = await signWidgetJwt(keys, { ...input, lifetimeMs: 60_000, now: new Date(Date.now() - 120_000) });
    await expectInvalid(token, /expired/);
  });

  it('rejects a token that is not valid yet (nbf in the future)', async () => {
    const token = await signWith({ iss: WIDGET_JWT_ISSUER, aud: WIDGET_JWT_AUDIENCE, sub: 'u', app: 'a', project: 'p', jti: 'j', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600, nbf: Math.floor(Date.now() / 1000) + 600 });
    await expectInvalid(token);
  });

  it('rejects a token issued more than a minute in the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    const base = { iss: WIDGET_JWT_ISSUER, aud: WIDGET_JWT_AUDIENCE, sub: 'u', app: 'a', project: 'p', jti: 'j' };
    await expectInvalid(await signWith({ ...base, iat: now + MAX_IAT_SKEW_S + 30, exp: now + 7200 }), /issued in the future/);
    await expect(verifyWidgetJwt(keys, await signWith({ ...base, iat: now + 20, exp: now + 3600 }))).resolves.toMatchObject({ endUserId: 'u' });
  });

  it('rejects a token whose lifetime is over seven days', async () => {
    const now = Math.floor(Date.now() / 1000);
    const base = { iss: WIDGET_JWT_ISSUER, aud: WIDGET_JWT_AUDIENCE, sub: 'u', app: 'a', project: 'p', jti: 'j', iat: now };
    await expectInvalid(await signWith({ ...base, exp: now + MAX_WIDGET_TOKEN_LIFETIME_MS / 1000 + 1 }), /lifetime/);
    await expect(verifyWidgetJwt(keys, await signWith({ ...base, exp: now + MAX_WIDGET_TOKEN_LIFETIME_MS / 1000 }))).resolves.toMatchObject({ endUserId: 'u' });
  });

  it('rejects a wrong issuer or audience, and missing claims', async () => {
    const now = Math.floor(Date.now() / 1000);
    const base = { iss: WIDGET_JWT_ISSUER, aud: WIDGET_JWT_AUDIENCE, sub: 'u', app: 'a', project: 'p', jti: 'j', iat: now, exp: now + 3600 };
    await expectInvalid(await signWith({ ...base, iss: 'someone-else' }));
    await expectInvalid(await signWith({ ...base, aud: 'concierge-admin' }));
    for (const claim of ['sub', 'app', 'project', 'jti', 'exp', 'iat'] as const) {
      const { [claim]: _dropped, ...rest } = base;
      await expectInvalid(await signWith(rest));
    }
    await expectInvalid(await signWith({ ...base, app: 42 }));
  });

  it('rejects a token without a kid', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ iss: WIDGET_JWT_ISSUER, aud: WIDGET_JWT_AUDIENCE, sub: 'u', app: 'a', project: 'p', jti: 'j', iat: now, exp: now + 60 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(keys.current.key);
    await expectInvalid(token);
  });

  it.each(['eyJ', 'eyJhbGciOiJIUzI1NiJ9', 'eyJ.garbage.here', 'eyJhbGciOiJIUzI1NiJ9.e30', 'eyJ!!!.###.$$$', `eyJ${'A'.repeat(5000)}`])(
    'rejects garbage after eyJ (%s) with INVALID_TOKEN',
    async (token) => {
      await expectInvalid(token);
    },
  );

  it('accepts tokens of every configured key after rotation, and refuses them once their key is removed', async () => {
    const oldKeys = createSigningKeys([SECRET]);
    const { token: oldToken } = await signWidgetJwt(oldKeys, input);
    const rotated = createSigningKeys([OTHER_SECRET, SECRET]);
    expect(rotated.current.id).not.toBe(oldKeys.current.id);
    await expect(verifyWidgetJwt(rotated, oldToken)).resolves.toMatchObject({ endUserId: 'user-1' });
    const { token: newToken } = await signWidgetJwt(rotated, input);
    expect(decode(newToken.split('.')[0]!).kid).toBe(rotated.current.id);
    await expect(verifyWidgetJwt(rotated, newToken)).resolves.toMatchObject({ endUserId: 'user-1' });
    const retired = createSigningKeys([OTHER_SECRET]);
    await expect(verifyWidgetJwt(retired, oldToken)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });
});
