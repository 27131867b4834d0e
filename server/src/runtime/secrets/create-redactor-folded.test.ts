import { describe, expect, it } from 'vitest';
import { createRedactor } from './create-redactor.ts';

const secret = 'sk-Live-9f8e7d6c5b4a';
const unicodeEscape = (text: string, every = 1) =>
  [...text].map((character, index) => (index % every === 0 ? `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}` : character)).join('');

describe('createRedactor: forms a command can print without really encoding', () => {
  const { redact } = createRedactor([secret]);

  it('finds the secret with whitespace between its characters', () => {
    for (const separator of [' ', '\n', '\t', '\r\n', '  \t ', '\u200b', '\u00a0']) {
      expect(redact(`before ${[...secret].join(separator)} after`)).toBe('before [REDACTED] after');
    }
    // Whitespace only between some characters, as `fold -w3` prints it.
    expect(redact(`x ${secret.match(/.{1,3}/g)!.join('\n')} y`)).toBe('x [REDACTED] y');
  });

  it('finds the secret in another letter case', () => {
    for (const form of [secret.toUpperCase(), secret.toLowerCase(), [...secret].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join('')]) {
      expect(redact(`token=${form};`)).toBe('token=[REDACTED];');
    }
  });

  it('finds JSON \\u escapes of all or some characters, escaped once or twice, and \\x escapes', () => {
    const forms = [
      unicodeEscape(secret),
      unicodeEscape(secret, 3),
      unicodeEscape(secret).replace(/[0-9a-f]{4}/g, (digits) => digits.toUpperCase()),
      unicodeEscape(secret).replaceAll('\\', '\\\\'),
      [...secret].map((character) => `\\x${character.charCodeAt(0).toString(16)}`).join(''),
    ];
    for (const form of forms) expect(redact(`"value": "${form}"`)).toBe('"value": "[REDACTED]"');
  });

  it('finds \\n-style escapes between characters, as a model echoing JSON prints them', () => {
    expect(redact(`a ${[...secret].join('\\n')} b`)).toBe('a [REDACTED] b');
    expect(redact(`a ${[...secret].join('\\t\\r\\n')} b`)).toBe('a [REDACTED] b');
    const multiline = 'line-one-secret\nline-two-secret';
    expect(createRedactor([multiline]).redact(`key: ${JSON.stringify(multiline)}`)).toBe('key: "[REDACTED]"');
  });

  it('finds URL escapes of some or all characters, and the secret with terminal colour codes between characters', () => {
    const urlEncoded = [...secret].map((character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`).join('');
    expect(redact(`GET /?t=${urlEncoded}&x=1`)).toBe('GET /?t=[REDACTED]&x=1');
    expect(redact(`t=${secret.replace('-', '%2d')}`)).toBe('t=[REDACTED]');
    expect(redact(`\x1b[1m${[...secret].join('\x1b[31;1m')}\x1b[0m`)).toBe('\x1b[1m[REDACTED]\x1b[0m');
    expect(redact('100% done, 50%zz and %')).toBe('100% done, 50%zz and %');
  });

  it('finds the forms combined: spaced, upper-cased and partly escaped at once', () => {
    const mixed = [...unicodeEscape(secret.toUpperCase(), 4)].join('');
    const spaced = mixed.replaceAll('\\u', ' \\u');
    expect(spaced.startsWith(' \\u')).toBe(true);
    expect(redact(`<${spaced}>`)).toBe('< [REDACTED]>');
    expect(redact(Buffer.from(secret).toString('hex').toUpperCase().replace(/(..)/g, '$1 '))).toBe('[REDACTED] ');
  });

  it('leaves ordinary text with escapes, whitespace and other cases alone', () => {
    const text = 'Line one\\nLine two \\u0041BC "quoted\\"" sk-live 9f8e7d6c5b SK-LIVE-9F8E7D6C5B';
    expect(redact(text)).toBe(text);
    expect(redact('C:\\Users\\admin\\x')).toBe('C:\\Users\\admin\\x');
  });

  it('matches secrets of 4 to 7 characters only exactly as written, so words and numbers survive', () => {
    const short = createRedactor(['Ab12cd']);
    expect(short.redact('id Ab12cd end')).toBe('id [REDACTED] end');
    expect(short.redact('AB12CD ab12cd A b 1 2 c d \\u0041b12cd')).toBe('AB12CD ab12cd A b 1 2 c d \\u0041b12cd');
  });

  it('replaces the whole stretch, whitespace and escapes inside it included, and keeps text around it', () => {
    expect(redact(`[${secret.slice(0, 6)}  \n ${secret.slice(6)}]`)).toBe('[[REDACTED]]');
    expect(redact(`pre\\u0020${unicodeEscape(secret)}\\npost`)).toBe('pre\\u0020[REDACTED]\\npost');
  });

  it('finds a secret inside a long run of its own prefix (matching stays linear)', () => {
    const repeated = 'ab'.repeat(40);
    const { redact: redactRepeated } = createRedactor([`${repeated}c`]);
    const text = `${'ab'.repeat(50_000)}c`;
    const redacted = redactRepeated(text);
    expect(redacted.endsWith('[REDACTED]')).toBe(true);
    expect(redacted.length).toBe(text.length - repeated.length - 1 + '[REDACTED]'.length);
  });
});

describe('createRedactor.redactCut: text whose end a cap cut off', () => {
  const { redact, redactCut } = createRedactor([secret]);

  it('hides a tail of 4 or more characters that begins the secret or one of its forms', () => {
    for (const length of [4, 5, 10, secret.length - 1]) {
      expect(redactCut(`kept output ${secret.slice(0, length)}`)).toBe('kept output [REDACTED]');
      expect(redactCut(`kept ${secret.slice(0, length).toUpperCase().split('').join(' ')}`)).toBe('kept [REDACTED]');
    }
    const hex = Buffer.from(secret).toString('hex');
    expect(redactCut(`dump ${hex.slice(0, 12)}`)).toBe('dump [REDACTED]');
  });

  it('shows a tail shorter than 4 characters, and a prefix that was not cut', () => {
    expect(redactCut(`kept ${secret.slice(0, 3)}`)).toBe(`kept ${secret.slice(0, 3)}`);
    expect(redact(`not cut ${secret.slice(0, 10)}`)).toBe(`not cut ${secret.slice(0, 10)}`);
  });
});

describe('createRedactor.redactStreams: stdout and stderr of one command', () => {
  const { redactStreams } = createRedactor([secret]);

  it('hides a secret split between the two streams at any point, in either order', () => {
    for (let cut = 1; cut < secret.length; cut++) {
      const head = secret.slice(0, cut);
      const tail = secret.slice(cut);
      expect(redactStreams(`out ${head}`, `${tail} err`, false)).toEqual({ stdout: 'out [REDACTED]', stderr: '[REDACTED] err' });
      expect(redactStreams(`${tail}\n`, `\n${head}`, false)).toEqual({ stdout: '[REDACTED]\n', stderr: '\n[REDACTED]' });
    }
  });

  it('hides each stream\'s secrets and the tails the cap cut, and leaves unrelated output alone', () => {
    expect(redactStreams(`a ${secret} b`, 'plain', false)).toEqual({ stdout: 'a [REDACTED] b', stderr: 'plain' });
    expect(redactStreams(`x ${secret.slice(0, 8)}`, `y ${secret.slice(0, 6)}`, true)).toEqual({ stdout: 'x [REDACTED]', stderr: 'y [REDACTED]' });
    expect(redactStreams('hello', 'world', false)).toEqual({ stdout: 'hello', stderr: 'world' });
  });
});
