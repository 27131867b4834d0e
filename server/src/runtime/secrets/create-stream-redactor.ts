import { SecretSearch } from './find-secret-spans.ts';
import { buildSecretMatchers, REDACTED, type SecretMatchers } from './secret-forms.ts';
import type { Span } from './secret-scanner.ts';

/**
 * Most text held back at once. Whitespace and escapes between a secret's characters have no bound, so a
 * tail that could still become a secret may grow; past this it is emitted as it is (and the rest of the
 * secret, if it comes, is redacted), keeping memory bounded. As it is, not as `[REDACTED]`: hiding a tail
 * only because it begins a secret would tell whoever wrote it that their guess of the secret's start was
 * right (red team: a secret recovered a character at a time from padded probes in a download).
 */
export const MAX_HELD_CHARACTERS = 65_536;

/** Redacts a stream of text chunks, catching secrets split across chunk boundaries. */
export interface StreamRedactor {
  /** Returns the redacted text that is safe to emit now; holds back a tail that may begin a secret. */
  push(chunk: string): string;
  /** Returns the redacted remainder; call once at the end of the stream. */
  flush(): string;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * A stream redactor over prepared matchers. The matchers keep their state between chunks, so each chunk
 * is scanned once; only a tail that may still begin a secret form (in any of its folded forms) is held.
 */
export function createStreamRedactorFor(matchers: SecretMatchers): StreamRedactor {
  if (matchers.folded.empty && matchers.exact.empty) return { push: (chunk) => chunk, flush: () => '' };
  const search = new SecretSearch(matchers);
  /** Text not yet emitted; it begins at original offset `emitted`. */
  let held = '';
  let emitted = 0;
  let spans: Span[] = [];

  const emitUpTo = (limit: number): string => {
    search.takeSpans(spans);
    let output = '';
    let position = emitted;
    const later: Span[] = [];
    for (const span of spans) {
      // A span may start inside text already emitted as [REDACTED]: only its rest is left to hide.
      const start = Math.max(span.start, position);
      if (span.end <= start) continue;
      if (start >= limit) {
        later.push({ start, end: span.end });
        continue;
      }
      output += held.slice(position - emitted, start - emitted) + REDACTED;
      position = span.end;
    }
    if (position < limit) {
      output += held.slice(position - emitted, limit - emitted);
      position = limit;
    }
    spans = later;
    held = held.slice(position - emitted);
    emitted = position;
    return output;
  };

  const end = () => emitted + held.length;

  return {
    push(chunk) {
      held += chunk;
      search.feed(chunk);
      let limit = Math.max(emitted, Math.min(search.settledOffset, end()));
      if (end() - limit > MAX_HELD_CHARACTERS) limit = end();
      // Never split a surrogate pair between what is emitted and what is held.
      if (limit > emitted && isHighSurrogate(held.charCodeAt(limit - 1 - emitted))) limit--;
      return emitUpTo(limit);
    },
    flush() {
      search.finish();
      return emitUpTo(end());
    },
  };
}

/** Creates a stream redactor for a set of secret values (values shorter than 4 characters are ignored). */
export function createStreamRedactor(secretValues: string[]): StreamRedactor {
  return createStreamRedactorFor(buildSecretMatchers(secretValues));
}
