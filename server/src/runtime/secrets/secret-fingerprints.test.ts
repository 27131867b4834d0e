import { describe, expect, it } from 'vitest';
import { createFingerprintRedactor, fingerprintSecrets } from './secret-fingerprints.ts';

const KEY = 'k'.repeat(40);
const secret = 'tok-4f9a2c71be';

describe('secret fingerprints', () => {
  it('hide a file name made from the secret, in any case or as hex or base64url, without storing it', () => {
    const stored = fingerprintSecrets([KEY], [secret, 'ab']);
    expect(stored).not.toBeNull();
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(Buffer.from(secret).toString('hex'));
    const redact = createFingerprintRedactor([KEY], stored);
    expect(redact(`downloads/report-${secret}.txt`)).toBe('downloads/report-[REDACTED].txt');
    expect(redact(`${secret.toUpperCase()}.csv`)).toBe('[REDACTED].csv');
    expect(redact(`${Buffer.from(secret).toString('hex')}`)).toBe('[REDACTED]');
    expect(redact(`${Buffer.from(secret).toString('base64url')}.bin`)).toBe('[REDACTED].bin');
    expect(redact('downloads/plain-name.txt')).toBe('downloads/plain-name.txt');
    // Only whole forms: a prefix of the secret is not in the fingerprints.
    expect(redact(`${secret.slice(0, 8)}.txt`)).toBe(`${secret.slice(0, 8)}.txt`);
  });

  it('match under an older key still listed after rotation, and not under another key', () => {
    const stored = fingerprintSecrets([KEY], [secret]);
    expect(createFingerprintRedactor(['n'.repeat(40), KEY], stored)(`x${secret}`)).toBe('x[REDACTED]');
    expect(createFingerprintRedactor(['n'.repeat(40)], stored)(`x${secret}`)).toBe(`x${secret}`);
  });

  it('store nothing without key material or secrets, and ignore a damaged column', () => {
    expect(fingerprintSecrets([], [secret])).toBeNull();
    expect(fingerprintSecrets([KEY], ['abc'])).toBeNull();
    expect(createFingerprintRedactor([KEY], 'not json')('name')).toBe('name');
  });
});

describe('secret fingerprints under attack', () => {
  it('bound the HMACs of one listing: a name checked once, and names past the budget hidden whole', () => {
    // Red team: 32 secrets of lengths 4-35 (about 67 form lengths) over 250-character names, per file,
    // blocked the server for a second each.
    const secrets = Array.from({ length: 32 }, (_, index) => `s${'x'.repeat(index + 7)}`);
    const stored = fingerprintSecrets([KEY], secrets);
    const redact = createFingerprintRedactor([KEY], stored, 100_000);
    const long = 'a'.repeat(250);
    const first = redact(long);
    expect(first).toBe(long);
    // The same folder name again costs nothing: it is answered from what was checked.
    for (let index = 0; index < 1_000; index++) expect(redact(long)).toBe(long);
    // New names spend the budget; once it is spent they are hidden, never shown unchecked.
    const later = Array.from({ length: 20 }, (_, index) => redact(`${'b'.repeat(240)}${index}`));
    expect(later.at(-1)).toBe('[REDACTED]');
    expect(later.filter((name) => name !== '[REDACTED]').length).toBeGreaterThan(0);
  });
});
