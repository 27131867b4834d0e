import { isIP } from 'node:net';
import { AppError } from '../../errors/app-error.ts';

const MAX_PATTERN_CHARS = 300;
const SHAPE = /^(https?):\/\/([^/?#@\s]+)\/?$/i;

/**
 * Validates and normalises an allowed origin: exactly `scheme://host[:port]` (http or https, no path,
 * query or credentials), or a wildcard `scheme://*.example.com[:port]` that matches any subdomain of
 * example.com (at any depth, not example.com itself) on that scheme and port. Hosts are lower-cased and
 * punycoded and default ports dropped, exactly as browsers write the Origin header. Throws
 * VALIDATION_ERROR naming the bad value.
 */
export function parseOriginPattern(input: string): string {
  const text = input.trim();
  const fail = (why: string): never => {
    throw new AppError('VALIDATION_ERROR', `Invalid origin "${text.slice(0, MAX_PATTERN_CHARS)}": ${why}`);
  };
  if (text.length === 0 || text.length > MAX_PATTERN_CHARS) fail(`give scheme://host[:port], at most ${MAX_PATTERN_CHARS} characters`);
  if (!SHAPE.test(text)) fail('give scheme://host[:port] (http or https) with no path, query or user name, e.g. https://shop.example.com');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('not a valid URL');
  }
  const host = url.hostname;
  if (host === '') fail('the host is missing');
  if (host.startsWith('*.')) {
    const suffix = host.slice(2);
    if (suffix.includes('*')) fail('only one leading "*." label is allowed');
    if (isIP(suffix) !== 0 || suffix.startsWith('[')) fail('a wildcard needs a domain name, not an IP address');
    if (suffix !== 'localhost' && !/^[^.]+\.[^.]+/.test(suffix)) fail('a wildcard must keep at least two labels, like https://*.example.com');
  } else if (host.includes('*')) {
    fail('"*" may only stand for the leftmost label, like https://*.example.com');
  }
  return `${url.protocol}//${url.host}`;
}

/** Normalises an Origin header value; undefined for `null`, opaque or malformed origins. */
export function normaliseOrigin(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if (url.hostname.includes('*')) return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

/** Whether a normalised origin matches one parsed pattern (exact, or a `*.` wildcard on the same scheme and port). */
export function matchesOriginPattern(pattern: string, origin: string): boolean {
  if (pattern === origin) return true;
  const star = pattern.indexOf('://*.');
  if (star < 0) return false;
  const scheme = pattern.slice(0, star);
  const rest = pattern.slice(star + 5);
  const colon = rest.lastIndexOf(':');
  const suffix = colon >= 0 ? rest.slice(0, colon) : rest;
  const port = colon >= 0 ? rest.slice(colon) : '';
  if (!origin.startsWith(`${scheme}://`)) return false;
  const host = origin.slice(scheme.length + 3);
  if (port !== '') {
    if (!host.endsWith(port)) return false;
  } else if (/:\d+$/.test(host)) {
    return false;
  }
  const hostname = port === '' ? host : host.slice(0, -port.length);
  return hostname.endsWith(`.${suffix}`) && hostname.length > suffix.length + 1;
}

/** Whether an Origin header value is allowed by any of the patterns. */
export function isOriginAllowed(patterns: readonly string[], origin: string | undefined): boolean {
  if (!origin) return false;
  const normalised = normaliseOrigin(origin);
  return normalised !== undefined && patterns.some((pattern) => matchesOriginPattern(pattern, normalised));
}
