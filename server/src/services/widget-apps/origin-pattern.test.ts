import { describe, expect, it } from 'vitest';
import { isOriginAllowed, matchesOriginPattern, normaliseOrigin, parseOriginPattern } from './origin-pattern.ts';

describe('parseOriginPattern', () => {
  it.each([
    ['https://shop.example.com', 'https://shop.example.com'],
    ['https://Shop.Example.COM:443/', 'https://shop.example.com'],
    ['http://localhost:3000', 'http://localhost:3000'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://[::1]:5173', 'http://[::1]:5173'],
    ['https://bücher.de', 'https://xn--bcher-kva.de'],
    ['  https://*.example.com  ', 'https://*.example.com'],
    ['https://*.example.com:8443', 'https://*.example.com:8443'],
    ['http://*.localhost:3000', 'http://*.localhost:3000'],
  ])('normalises %s to %s', (input, expected) => {
    expect(parseOriginPattern(input)).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['*', 'match-all'],
    ['null', 'opaque origin'],
    ['example.com', 'no scheme'],
    ['ftp://example.com', 'another scheme'],
    ['https://example.com/path', 'a path'],
    ['https://example.com?x=1', 'a query'],
    ['https://example.com#top', 'a fragment'],
    ['https://user@example.com', 'credentials'],
    ['https://*.com', 'a wildcard over a top-level domain'],
    ['https://*', 'a bare wildcard'],
    ['https://a.*.example.com', 'a wildcard in the middle'],
    ['https://*.*.example.com', 'two wildcards'],
    ['https://*example.com', 'a partial-label wildcard'],
    ['https://*.1.2.3.4', 'a wildcard over an IP address'],
    [`https://${'a'.repeat(300)}.com`, 'an overlong value'],
  ])('refuses %s (%s) with VALIDATION_ERROR', (input) => {
    expect(() => parseOriginPattern(input)).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
  });
});

describe('normaliseOrigin', () => {
  it('returns undefined for null, non-http and malformed origins', () => {
    expect(normaliseOrigin('null')).toBeUndefined();
    expect(normaliseOrigin('file://')).toBeUndefined();
    expect(normaliseOrigin('chrome-extension://abc')).toBeUndefined();
    expect(normaliseOrigin('not a url')).toBeUndefined();
    expect(normaliseOrigin('https://*.example.com')).toBeUndefined();
  });

  it('lower-cases the host and drops the default port', () => {
    expect(normaliseOrigin('HTTPS://Shop.Example.com:443')).toBe('https://shop.example.com');
  });
});

describe('matchesOriginPattern', () => {
  const cases: [pattern: string, origin: string, expected: boolean][] = [
    ['https://shop.example.com', 'https://shop.example.com', true],
    ['https://shop.example.com', 'http://shop.example.com', false],
    ['https://shop.example.com', 'https://shop.example.com:8443', false],
    ['https://shop.example.com', 'https://evil-shop.example.com', false],
    ['https://shop.example.com', 'https://shop.example.com.evil.net', false],
    ['http://localhost:3000', 'http://localhost:3001', false],
    ['https://*.example.com', 'https://a.example.com', true],
    ['https://*.example.com', 'https://a.b.example.com', true],
    ['https://*.example.com', 'https://example.com', false],
    ['https://*.example.com', 'https://evilexample.com', false],
    ['https://*.example.com', 'https://example.com.evil.net', false],
    ['https://*.example.com', 'http://a.example.com', false],
    ['https://*.example.com', 'https://a.example.com:8443', false],
    ['https://*.example.com:8443', 'https://a.example.com:8443', true],
    ['https://*.example.com:8443', 'https://a.example.com', false],
    ['https://*.example.com:8443', 'https://a.example.com:9443', false],
  ];
  it.each(cases)('pattern %s against %s is %s', (pattern, origin, expected) => {
    expect(matchesOriginPattern(pattern, origin)).toBe(expected);
  });
});

describe('isOriginAllowed', () => {
  const patterns = ['https://shop.example.com', 'https://*.example.org'];

  it('allows listed and wildcard origins, in any case', () => {
    expect(isOriginAllowed(patterns, 'https://shop.example.com')).toBe(true);
    expect(isOriginAllowed(patterns, 'https://SHOP.example.com')).toBe(true);
    expect(isOriginAllowed(patterns, 'https://eu.example.org')).toBe(true);
  });

  it('refuses missing, null and unlisted origins', () => {
    expect(isOriginAllowed(patterns, undefined)).toBe(false);
    expect(isOriginAllowed(patterns, '')).toBe(false);
    expect(isOriginAllowed(patterns, 'null')).toBe(false);
    expect(isOriginAllowed(patterns, 'https://evil.example.net')).toBe(false);
    expect(isOriginAllowed([], 'https://shop.example.com')).toBe(false);
  });
});
