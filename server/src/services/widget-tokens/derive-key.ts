import { createHash, hkdfSync } from 'node:crypto';

/** A 256-bit key derived from a server secret for one purpose, with a short id that names it without revealing it. */
export interface DerivedKey {
  id: string;
  key: Buffer;
}

/** HKDF-SHA256 over a server secret; `purpose` keeps the JWT key and the encryption key independent. */
export function deriveKey(secret: string, purpose: string): DerivedKey {
  const key = Buffer.from(hkdfSync('sha256', secret, 'concierge', purpose, 32));
  const id = createHash('sha256').update(key).digest('base64url').slice(0, 12);
  return { id, key };
}
