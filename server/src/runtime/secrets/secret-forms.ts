import { foldSecretText } from './fold-secret-text.ts';
import { SecretAutomaton } from './secret-automaton.ts';

/** What replaces every secret value and its encodings. */
export const REDACTED = '[REDACTED]';
/** Shorter values are not treated as secrets: redacting them would shred ordinary text. */
export const MIN_SECRET_LENGTH = 4;
/**
 * Secrets at least this long are also found folded (another letter case, whitespace between their
 * characters, backslash escapes); shorter ones only exactly as written, where folding would match
 * ordinary words and numbers.
 */
export const MIN_FOLDED_SECRET_LENGTH = 8;
/**
 * Where text was cut (the output cap), a tail of at least this many characters that begins a secret or
 * one of its forms is hidden too, so the cap cannot show a usable prefix.
 */
export const MIN_CUT_PREFIX_LENGTH = 4;

/** Every exact form a secret may be printed in: itself, base64 (standard, unpadded, url-safe, and inside longer base64 text), hex and JSON-escaped. */
export function secretVariants(secretValues: Iterable<string>): string[] {
  const variants = new Set<string>();
  for (const value of secretValues) {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) continue;
    const bytes = Buffer.from(value, 'utf8');
    const base64 = bytes.toString('base64');
    const hex = bytes.toString('hex');
    for (const variant of [value, base64, base64.replace(/=+$/, ''), bytes.toString('base64url'), hex, hex.toUpperCase(), JSON.stringify(value).slice(1, -1)]) {
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

/** The two automata a redactor runs: folded forms of longer secrets, exact forms of short ones. */
export interface SecretMatchers {
  folded: SecretAutomaton;
  exact: SecretAutomaton;
}

/** Builds the matchers for a set of secret values (once per task, never per chunk). */
export function buildSecretMatchers(secretValues: Iterable<string>): SecretMatchers {
  const longer: string[] = [];
  const shorter: string[] = [];
  for (const value of secretValues) {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) continue;
    (value.length >= MIN_FOLDED_SECRET_LENGTH ? longer : shorter).push(value);
  }
  const folded = new Map<string, number[]>();
  for (const variant of secretVariants(longer)) {
    const codes = foldSecretText(variant);
    // A form that folds to almost nothing (a secret made of spaces) would match everywhere.
    if (codes.length >= MIN_SECRET_LENGTH) folded.set(codes.join(','), codes);
  }
  const exact = secretVariants(shorter).map((variant) => Array.from({ length: variant.length }, (_, index) => variant.charCodeAt(index)));
  return { folded: new SecretAutomaton(folded.values()), exact: new SecretAutomaton(exact) };
}
