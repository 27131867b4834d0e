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

  it('emits text at once unless its tail may begin a secret form, and holds only that tail', () => {
    const redactor = createStreamRedactor(['abcd']);
    expect(redactor.push('hello world')).toBe('hello world');
    // 'ab' may begin 'abcd'; '6' may begin its hex (61626364).
    expect(redactor.push(' ab')).toBe(' ');
    expect(redactor.push('x 6')).toBe('abx ');
    expect(redactor.push('1626364!')).toBe('[REDACTED]!');
    expect(redactor.flush()).toBe('');
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

describe('createStreamRedactor with folded forms', () => {
  const escaped = [...secret].map((character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
  const forms = {
    spaced: [...secret].join(' \n'),
    'upper case': secret.toUpperCase(),
    'JSON escapes': escaped,
    'escaped twice': escaped.replaceAll('\\', '\\\\'),
    'partly escaped and spaced': `${secret.slice(0, 4)}\\u00${secret.charCodeAt(4).toString(16)} ${secret.slice(5).toUpperCase()}`,
    '\\n between characters': [...secret].join('\\n'),
    'URL-encoded': [...secret].map((character) => `%${character.charCodeAt(0).toString(16)}`).join(''),
    'coloured': [...secret].join('\x1b[0;32m'),
  };

  for (const [name, form] of Object.entries(forms)) {
    it(`redacts the secret ${name}, split into two or three chunks at every position`, () => {
      const text = `<${form}> tail`;
      for (let first = 0; first <= text.length; first++) {
        for (const second of [first, Math.min(text.length, first + 2), Math.min(text.length, first + 7)]) {
          // Emitted text is never taken back, so the joined output equalling the redacted text means no
          // chunk ever showed a part of the secret.
          expect(pushAll([text.slice(0, first), text.slice(first, second), text.slice(second)]).joined).toBe('<[REDACTED]> tail');
        }
      }
      expect(pushAll([...text]).joined).toBe('<[REDACTED]> tail');
    });
  }

  it('holds an escape split between chunks until it is complete, then lets plain text go', () => {
    const redactor = createStreamRedactor([secret]);
    expect(redactor.push('path C:\\')).toBe('path C:');
    expect(redactor.push('u00')).toBe('');
    expect(redactor.push('zz ok')).toBe('\\u00zz ok');
    expect(redactor.flush()).toBe('');
  });

  it('bounds what it holds: a prefix followed by endless whitespace is released as it is, and the rest of the secret redacted', () => {
    const redactor = createStreamRedactor([secret]);
    const padding = ' '.repeat(8_192);
    const outputs = [redactor.push(`start ${secret.slice(0, 6)}`)];
    for (let index = 0; index < 20; index++) outputs.push(redactor.push(padding));
    const released = outputs.join('');
    expect(released.startsWith(`start ${secret.slice(0, 6)}   `)).toBe(true);
    outputs.push(redactor.push(`${secret.slice(6)} end`), redactor.flush());
    const joined = outputs.join('');
    expect(joined).not.toContain(secret.slice(6));
    expect(joined.endsWith('[REDACTED] end')).toBe(true);
  });

  it('shows a padded guess of a secret’s start exactly as it shows a wrong one (no oracle)', () => {
    // Red team: `#<guess>` plus 140,000 spaces came back [REDACTED] only when the guess was right.
    const probe = (guess: string) => {
      const redactor = createStreamRedactor([secret]);
      const text = `#${guess}${' '.repeat(140_000)}#`;
      const output: string[] = [];
      for (let offset = 0; offset < text.length; offset += 4_096) output.push(redactor.push(text.slice(offset, offset + 4_096)));
      output.push(redactor.flush());
      return output.join('');
    };
    const right = probe(secret.slice(0, 5));
    expect(right).toBe(`#${secret.slice(0, 5)}${' '.repeat(140_000)}#`);
    expect(probe('zzzzz')).toBe(`#zzzzz${' '.repeat(140_000)}#`);
  });
});
