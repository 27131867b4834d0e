import { describe, expect, it } from 'vitest';
import { createSecretBox } from './secret-box.ts';

const SECRET = 's'.repeat(40);
const NEXT_SECRET = 'n'.repeat(40);

describe('createSecretBox', () => {
  it('opens what it sealed, and never holds the plaintext in the sealed form', () => {
    const box = createSecretBox([SECRET]);
    const plaintext = JSON.stringify({ env: { REGION: 'eu' }, secrets: { TOKEN: 'tok-very-secret' } });
    const sealed = box.seal(plaintext, 'ctx');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('tok-very-secret');
    expect(Buffer.from(sealed.split('.')[3]!, 'base64url').toString('latin1')).not.toContain('tok-very-secret');
    expect(box.open(sealed, 'ctx')).toBe(plaintext);
  });

  it('uses a fresh IV each time', () => {
    const box = createSecretBox([SECRET]);
    expect(box.seal('same', 'ctx')).not.toBe(box.seal('same', 'ctx'));
  });

  it('throws when the ciphertext, IV or tag was tampered with', () => {
    const box = createSecretBox([SECRET]);
    const parts = box.seal('hello world', 'ctx').split('.');
    for (const index of [2, 3, 4]) {
      const changed = [...parts];
      const bytes = Buffer.from(changed[index]!, 'base64url');
      bytes[0] = bytes[0]! ^ 1;
      changed[index] = bytes.toString('base64url');
      expect(() => box.open(changed.join('.'), 'ctx')).toThrow();
    }
  });

  it('throws when opened under another context (a sealed value moved to another end user)', () => {
    const box = createSecretBox([SECRET]);
    expect(() => box.open(box.seal('hello', 'user-1'), 'user-2')).toThrow();
  });

  it('throws on malformed input', () => {
    const box = createSecretBox([SECRET]);
    for (const value of ['', 'v1', 'v2.a.b.c.d', 'v1.a.b.c.d.e', 'not sealed at all']) expect(() => box.open(value, 'ctx')).toThrow();
  });

  it('opens values sealed before a rotation while the old secret is still listed, and seals with the new one', () => {
    const before = createSecretBox([SECRET]);
    const sealed = before.seal('kept', 'ctx');
    const rotated = createSecretBox([NEXT_SECRET, SECRET]);
    expect(rotated.open(sealed, 'ctx')).toBe('kept');
    const resealed = rotated.seal('kept', 'ctx');
    expect(resealed.split('.')[1]).not.toBe(sealed.split('.')[1]);
    expect(() => createSecretBox([NEXT_SECRET]).open(sealed, 'ctx')).toThrow(/no longer configured/);
  });

  it('needs at least one secret', () => {
    expect(() => createSecretBox([])).toThrow();
  });
});
