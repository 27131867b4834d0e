import { describe, expect, it } from 'vitest';
import { createStreamRedactor } from './create-stream-redactor.ts';

const secret = 'hunter2-secret-value';

function pushAll(chunks: string[], secrets = [secret]): { emitted: string[]; joined: string } {
  const redactor = createStreamRedactor(secrets);
  const emitted = chunks.map((chunk) => redactor.push(chunk));
  emitted.push(redactor.flush());
  return { emitted, joined: emitted.join('') };
}

describe('createStreamRedactor', () => {
  it('redacts a secret split across chunks at every possible position', () => {
    const text = `start ${secret} middle ${Buffer.from(secret).toString('base64')} end`;
    for (let first = 0; first <= text.length; first++) {
      for (const second of [first, Math.min(text.length, first + 3), Math.min(text.length, first + 11)]) {
        const { emitted, joined } = pushAll([text.slice(0, first), text.slice(first, second), text.slice(second)]);
        expect(joined).toBe('start [REDACTED] middle [REDACTED] end');
        for (const part of emitted) expect(part).not.toContain('hunter2');
      }
    }
  });

  it('redacts a secret streamed one character at a time', () => {
    const text = `a${secret}b${secret}`;
    const { emitted, joined } = pushAll([...text]);
    expect(joined).toBe('a[REDACTED]b[REDACTED]');
    expect(emitted.join('|')).not.toMatch(/hunter2-s/);
  });

  it('emits text promptly when it cannot start a secret', () => {
    // The longest form of 'abcd' is its 8-character hex, so 7 characters are held back.
    const redactor = createStreamRedactor(['abcd']);
    expect(redactor.push('hello world')).toBe('hell');
    expect(redactor.push('!')).toBe('o');
    expect(redactor.flush()).toBe(' world!');
  });

  it('passes chunks straight through when there are no secrets', () => {
    const redactor = createStreamRedactor([]);
    expect(redactor.push('abc')).toBe('abc');
    expect(redactor.flush()).toBe('');
  });

  it('never splits a surrogate pair between emitted and held text', () => {
    const redactor = createStreamRedactor(['abcd']);
    const first = redactor.push('x😀yz');
    for (let index = 0; index < first.length; index++) {
      const code = first.charCodeAt(index);
      if (code >= 0xd800 && code <= 0xdbff) expect(index).toBeLessThan(first.length - 1);
    }
    expect(first + redactor.flush()).toBe('x😀yz');
  });
});
