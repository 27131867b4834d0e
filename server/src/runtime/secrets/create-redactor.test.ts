import { describe, expect, it } from 'vitest';
import { createRedactor } from './create-redactor.ts';
import { secretVariants } from './secret-forms.ts';

const secret = 'sk-live-9f8e7d6c5b4a';

describe('createRedactor', () => {
  it('replaces the value and its base64, url-safe base64, hex and JSON-escaped forms', () => {
    const tricky = 'p+/?~>a"b\\c';
    const { redact } = createRedactor([secret, tricky]);
    const bytes = Buffer.from(tricky);
    const forms = [
      tricky,
      bytes.toString('base64'),
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('base64url'),
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      JSON.stringify(tricky).slice(1, -1),
      secret,
      Buffer.from(secret).toString('base64'),
    ];
    for (const form of forms) expect(redact(`before ${form} after`)).toBe('before [REDACTED] after');
  });

  it('replaces the part of a longer base64 text that encodes the secret when it starts at any byte offset', () => {
    const { redact } = createRedactor([secret]);
    for (const prefix of ['', 'u:', 'user:', 'Authorization x']) {
      for (const suffix of ['', '\n', ':more bytes']) {
        const encoded = Buffer.from(`${prefix}${secret}${suffix}`).toString('base64');
        const redacted = redact(encoded);
        expect(redacted).toContain('[REDACTED]');
        // Only the prefix's and suffix's own characters remain, plus the two they share with the secret and padding.
        const leftover = redacted.replace('[REDACTED]', '');
        expect(leftover.length).toBeLessThanOrEqual(Math.ceil(((prefix.length + suffix.length) * 4) / 3) + 4);
      }
    }
  });

  it('replaces every occurrence and leaves other text alone', () => {
    const { redact } = createRedactor([secret]);
    expect(redact(`${secret}${secret} and ${secret}.`)).toBe('[REDACTED][REDACTED] and [REDACTED].');
    expect(redact('nothing secret here')).toBe('nothing secret here');
  });

  it('replaces the longest secret whole when one secret contains another', () => {
    const { redact } = createRedactor(['abcd', 'abcdefgh']);
    expect(redact('x abcdefgh y abcd')).toBe('x [REDACTED] y [REDACTED]');
  });

  it('ignores values shorter than 4 characters and treats regex characters literally', () => {
    const { redact } = createRedactor(['abc', '', 'a.*b']);
    expect(redact('abc aXXb a.*b')).toBe('abc aXXb [REDACTED]');
    expect(secretVariants(['abc'])).toEqual([]);
  });

  it('passes text through unchanged when there are no secrets', () => {
    const redactor = createRedactor([]);
    const value = { a: 1 };
    expect(redactor.redact('plain')).toBe('plain');
    expect(redactor.redactValue(value)).toBe(value);
  });

  it('redacts deeply inside JSON-like values without changing the input', () => {
    const { redactValue } = createRedactor([secret]);
    const input = {
      output: `token=${secret}`,
      nested: [{ deep: Buffer.from(secret).toString('base64') }, 42, null, true],
      [secret]: 'key too',
      when: new Date(0),
    };
    const output = redactValue(input);
    expect(output).toEqual({
      output: 'token=[REDACTED]',
      nested: [{ deep: '[REDACTED]' }, 42, null, true],
      '[REDACTED]': 'key too',
      when: new Date(0),
    });
    expect(input.output).toBe(`token=${secret}`);
    expect(JSON.stringify(output)).not.toContain(secret);
  });

  it('handles cyclic values without looping', () => {
    const { redactValue } = createRedactor([secret]);
    const cyclic: Record<string, unknown> = { text: secret };
    cyclic.self = cyclic;
    const output = redactValue(cyclic) as Record<string, unknown>;
    expect(output.text).toBe('[REDACTED]');
    expect(output.self).toBe(output);
  });
});

describe('createRedactor with wrapped output', () => {
  it('redacts a long secret when base64 or xxd wrap its encoding across lines', () => {
    const secret = `sk-${'q7Zr9'.repeat(20)}`;
    const wrapped = (text: string, width: number) => text.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n');
    const redactor = createRedactor([secret]);
    const base64 = wrapped(Buffer.from(secret).toString('base64'), 76);
    const hex = wrapped(Buffer.from(secret).toString('hex'), 60);
    expect(base64).toContain('\n');
    expect(redactor.redact(`out:\n${base64}\nend`)).toBe('out:\n[REDACTED]\nend');
    expect(redactor.redact(hex)).toBe('[REDACTED]');
  });
});
