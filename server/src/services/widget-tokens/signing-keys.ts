import { type DerivedKey, deriveKey } from './derive-key.ts';

/** The HS256 keys for widget JWTs: the first server secret signs, every configured secret verifies (matched by `kid`). */
export interface SigningKeys {
  current: DerivedKey;
  find(kid: string | undefined): DerivedKey | undefined;
}

/** Derives one signing key per server secret (rotation: put the new secret first, keep the old one until its tokens expire). */
export function createSigningKeys(secrets: readonly string[]): SigningKeys {
  if (secrets.length === 0) throw new Error('createSigningKeys needs at least one secret');
  const keys = secrets.map((secret) => deriveKey(secret, 'concierge widget-jwt HS256 v1'));
  const byId = new Map(keys.map((key) => [key.id, key]));
  return { current: keys[0]!, find: (kid) => (kid === undefined ? undefined : byId.get(kid)) };
}
