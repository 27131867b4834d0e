import { createStreamRedactorFor, type StreamRedactor } from './create-stream-redactor.ts';
import { applySpans, findSecretSpans } from './find-secret-spans.ts';
import { buildSecretMatchers, MIN_SECRET_LENGTH, REDACTED } from './secret-forms.ts';
import type { Span } from './secret-scanner.ts';

export { MIN_SECRET_LENGTH, REDACTED };

/** Replaces known secret values in text and in JSON-like values. */
export interface Redactor {
  redact(text: string): string;
  /** For text whose end was cut off (an output cap): also hides a tail that begins a secret. */
  redactCut(text: string): string;
  /**
   * A command's stdout and stderr, each redacted as the end of the other too (a secret printed half on
   * each is found in either order); `cut` when the output cap truncated them.
   */
  redactStreams(stdout: string, stderr: string, cut: boolean): { stdout: string; stderr: string };
  /** Deep copy of a JSON-like value with every string (keys included) redacted. */
  redactValue<T>(value: T): T;
  /** A redactor for a stream of chunks, catching secrets split between them. */
  stream(): StreamRedactor;
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

/** The spans of `joined` (first + second) that fall in its first part and in its second part. */
function splitSpans(spans: Span[], firstLength: number): [Span[], Span[]] {
  const first: Span[] = [];
  const second: Span[] = [];
  for (const { start, end } of spans) {
    if (start < firstLength) first.push({ start, end: Math.min(end, firstLength) });
    if (end > firstLength) second.push({ start: Math.max(0, start - firstLength), end: end - firstLength });
  }
  return [first, second];
}

/** Merges two sorted span lists of the same text. */
function unionSpans(a: Span[], b: Span[]): Span[] {
  const merged: Span[] = [];
  for (const span of [...a, ...b].sort((x, y) => x.start - y.start)) {
    const last = merged[merged.length - 1];
    if (last && span.start < last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged;
}

/** Creates a redactor for one task's secrets (values shorter than 4 characters are ignored). */
export function createRedactor(secretValues: string[]): Redactor {
  const matchers = buildSecretMatchers(secretValues);
  const none = matchers.folded.empty && matchers.exact.empty;
  const redact = (text: string) => (none ? text : applySpans(text, findSecretSpans(matchers, text), REDACTED));
  return {
    redact,
    redactCut: (text) => (none ? text : applySpans(text, findSecretSpans(matchers, text, true), REDACTED)),
    redactStreams(stdout, stderr, cut) {
      if (none) return { stdout, stderr };
      // Scanned as stdout+stderr and as stderr+stdout: each order's end is also the end of one stream.
      const [outFirst, errSecond] = splitSpans(findSecretSpans(matchers, stdout + stderr, cut), stdout.length);
      const [errFirst, outSecond] = splitSpans(findSecretSpans(matchers, stderr + stdout, cut), stderr.length);
      return {
        stdout: applySpans(stdout, unionSpans(outFirst, outSecond), REDACTED),
        stderr: applySpans(stderr, unionSpans(errFirst, errSecond), REDACTED),
      };
    },
    redactValue: <T>(value: T): T => (none ? value : (redactDeep(value, redact, new WeakMap()) as T)),
    stream: () => createStreamRedactorFor(matchers),
  };
}

