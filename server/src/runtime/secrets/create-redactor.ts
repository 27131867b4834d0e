/** What replaces every secret value and its encodings. */
export const REDACTED = '[REDACTED]';
/** Shorter values are not treated as secrets: redacting them would shred ordinary text. */
export const MIN_SECRET_LENGTH = 4;

/** Replaces known secret values in text and in JSON-like values. */
export interface Redactor {
  redact(text: string): string;
  /** Deep copy of a JSON-like value with every string (keys included) redacted. */
  redactValue<T>(value: T): T;
}

/** Every form a secret may be printed in: itself, base64 (standard, unpadded, url-safe, and inside longer base64 text), hex and JSON-escaped. */
export function secretVariants(secretValues: Iterable<string>): string[] {
  const variants = new Set<string>();
  for (const value of secretValues) {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) continue;
    const bytes = Buffer.from(value, 'utf8');
    const base64 = bytes.toString('base64');
    const hex = bytes.toString('hex');
    for (const variant of [
      value,
      base64,
      base64.replace(/=+$/, ''),
      bytes.toString('base64url'),
      hex,
      hex.toUpperCase(),
      JSON.stringify(value).slice(1, -1),
    ]) {
      variants.add(variant);
    }
    // Inside a longer base64 text (`echo "user:$TOKEN" | base64`, Basic auth) the secret may start at any of
    // three byte offsets; keep the characters only its own bytes decide, in both alphabets.
    for (const shift of [0, 1, 2]) {
      const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64').replace(/=+$/, '');
      const core = encoded.slice([0, 2, 3][shift], (shift + bytes.length) % 3 === 0 ? undefined : -1);
      if (core.length < MIN_SECRET_LENGTH) continue;
      variants.add(core);
      variants.add(core.replaceAll('+', '-').replaceAll('/', '_'));
    }
  }
  // Longest first, so a secret that contains another is replaced whole.
  return [...variants].sort((a, b) => b.length - a.length);
}

const escapeRegExp = (character: string) => character.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One global regex matching any variant, longest alternatives first; undefined when there is nothing to
 * hide. A line break may fall anywhere inside a match, since `base64` wraps at 76 columns and `xxd -p`
 * at 60.
 */
export function secretPattern(variants: string[]): RegExp | undefined {
  if (variants.length === 0) return undefined;
  return new RegExp(variants.map((variant) => [...variant].map(escapeRegExp).join('(?:\\r?\\n)?')).join('|'), 'g');
}

function redactDeep(value: unknown, redact: (text: string) => string, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(redactDeep(item, redact, seen));
    return copy;
  }
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof Error) return new Error(redact(value.message));
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  for (const [key, inner] of Object.entries(value)) copy[redact(key)] = redactDeep(inner, redact, seen);
  return copy;
}

/** Creates a redactor for one task's secrets (values shorter than 4 characters are ignored). */
export function createRedactor(secretValues: string[]): Redactor {
  const pattern = secretPattern(secretVariants(secretValues));
  const redact = (text: string) => (pattern ? text.replace(pattern, REDACTED) : text);
  return {
    redact,
    redactValue: <T>(value: T): T => (pattern ? (redactDeep(value, redact, new WeakMap()) as T) : value),
  };
}
