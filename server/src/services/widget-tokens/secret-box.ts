import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deriveKey } from './derive-key.ts';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Authenticated encryption for values kept at rest (end-user env and secrets). */
export interface SecretBox {
  /** Encrypts `plaintext`, bound to `context` (e.g. app and end user) so a sealed value cannot be moved to another row. */
  seal(plaintext: string, context: string): string;
  /** Decrypts a sealed value; throws when it was tampered with, moved, or sealed with a key no longer configured. */
  open(sealed: string, context: string): string;
}

/**
 * AES-256-GCM with keys derived (HKDF) from the server secrets. The first secret seals; any configured
 * secret opens, found by the key id written into the sealed value: `v1.<kid>.<iv>.<ciphertext>.<tag>`.
 */
export function createSecretBox(secrets: readonly string[]): SecretBox {
  if (secrets.length === 0) throw new Error('createSecretBox needs at least one secret');
  const keys = secrets.map((secret) => deriveKey(secret, 'concierge end-user-context AES-256-GCM v1'));
  const byId = new Map(keys.map((key) => [key.id, key]));
  const current = keys[0]!;
  return {
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, current.id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    open(sealed, context) {
      const [version, kid, iv, ciphertext, tag, ...rest] = sealed.split('.');
      if (version !== VERSION || kid === undefined || iv === undefined || ciphertext === undefined || tag === undefined || rest.length > 0) {
        throw new Error('The sealed value is malformed');
      }
      const key = byId.get(kid);
      if (!key) throw new Error(`The sealed value was encrypted with key ${kid}, which is no longer configured`);
      const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
