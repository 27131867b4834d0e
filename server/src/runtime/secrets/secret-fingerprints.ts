import { createHmac } from 'node:crypto';
import { applySpans } from './find-secret-spans.ts';
import { foldCase } from './fold-secret-text.ts';
import { MIN_SECRET_LENGTH, REDACTED } from './secret-forms.ts';
import { addSpan, type Span } from './secret-scanner.ts';

/**
 * Keyed fingerprints of a task's secrets, stored with the task so that its artifact listing can still
 * hide file names made from a secret after the secret itself is gone from memory (restart, TTL). Each is
 * an HMAC, under a key derived from the server's key material, of a whole form of the secret (never a
 * prefix), so the stored value gives nothing away without that key. Names are matched by sliding a
 * window of each stored length over them: only whole forms are found, in any letter case.
 */

/** One stored fingerprint: the form's length in code units and its truncated HMAC. */
type Fingerprint = [length: number, digest: string];

const LABEL = 'concierge secret fingerprints v1';

function derivedKey(keyMaterial: string): Buffer {
  return createHmac('sha256', keyMaterial).update(LABEL).digest();
}

function digest(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('base64url').slice(0, 22);
}

const foldText = (text: string) => String.fromCharCode(...Array.from({ length: text.length }, (_, index) => foldCase(text.charCodeAt(index))));

/** The forms a file name may carry: the value, its url-safe base64 (`/` cannot be in a name) and hex. */
function nameForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  return [...new Set([value, bytes.toString('base64url'), bytes.toString('hex')].map(foldText))];
}

/** JSON of the fingerprints of `values` under the current key (the first of `keyMaterial`); null when there are none. */
export function fingerprintSecrets(keyMaterial: readonly string[], values: readonly string[]): string | null {
  const current = keyMaterial[0];
  if (current === undefined) return null;
  const key = derivedKey(current);
  const fingerprints: Fingerprint[] = [];
  for (const value of values) {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) continue;
    for (const form of nameForms(value)) fingerprints.push([form.length, digest(key, form)]);
  }
  return fingerprints.length > 0 ? JSON.stringify(fingerprints) : null;
}

function parseFingerprints(stored: string | null): Fingerprint[] {
  if (!stored) return [];
  try {
    const parsed: unknown = JSON.parse(stored);
    return Array.isArray(parsed) ? parsed.filter((item): item is Fingerprint => Array.isArray(item) && typeof item[0] === 'number' && typeof item[1] === 'string') : [];
  } catch {
    return [];
  }
}

/** HMACs one listing may compute (a few hundred ms): the visitor chooses both the lengths and the names. */
export const FINGERPRINT_BUDGET = 50_000;

/**
 * A redactor for file names (one path segment each) from stored fingerprints; every key of `keyMaterial`
 * is tried, so fingerprints made before a key rotation still match while the old key is listed. The work
 * is bounded (red team: sliding every stored length over 15,000-character paths blocked the server for
 * minutes): each distinct name is checked once, and once `budget` HMACs are spent, names not yet checked
 * are hidden whole rather than shown unchecked.
 */
export function createFingerprintRedactor(keyMaterial: readonly string[], stored: string | null, budget = FINGERPRINT_BUDGET): (name: string) => string {
  const fingerprints = parseFingerprints(stored);
  if (fingerprints.length === 0 || keyMaterial.length === 0) return (name) => name;
  const keys = keyMaterial.map(derivedKey);
  const wanted = new Set(fingerprints.map(([, value]) => value));
  const lengths = [...new Set(fingerprints.map(([length]) => length))];
  const checked = new Map<string, string>();
  let spent = 0;
  return (name) => {
    const known = checked.get(name);
    if (known !== undefined) return known;
    const folded = foldText(name);
    const cost = lengths.reduce((sum, length) => sum + Math.max(0, folded.length - length + 1), 0) * keys.length;
    if (spent + cost > budget) return REDACTED;
    spent += cost;
    const spans: Span[] = [];
    for (const length of lengths) {
      for (let start = 0; start + length <= folded.length; start++) {
        const window = folded.slice(start, start + length);
        if (keys.some((key) => wanted.has(digest(key, window)))) addSpan(spans, { start, end: start + length });
      }
    }
    const redacted = applySpans(name, spans, REDACTED);
    checked.set(name, redacted);
    return redacted;
  };
}
