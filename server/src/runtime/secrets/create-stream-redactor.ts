import { REDACTED, secretPattern, secretVariants } from './create-redactor.ts';

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

/** Creates a stream redactor that holds back (longest secret form − 1) characters between chunks. */
export function createStreamRedactor(secretValues: string[]): StreamRedactor {
  const variants = secretVariants(secretValues);
  const pattern = secretPattern(variants);
  const holdBack = Math.max(0, (variants[0]?.length ?? 0) - 1);
  let pending = '';
  return {
    push(chunk) {
      if (!pattern) return chunk;
      const text = pending + chunk;
      let cut = Math.max(0, text.length - holdBack);
      // Never split a surrogate pair between what is emitted and what is held.
      if (cut > 0 && cut < text.length && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
      let output = '';
      let last = 0;
      pattern.lastIndex = 0;
      // A match starting before the cut lies wholly inside `text`, since no form is longer than holdBack + 1.
      for (let match = pattern.exec(text); match && match.index < cut; match = pattern.exec(text)) {
        output += text.slice(last, match.index) + REDACTED;
        last = match.index + match[0].length;
      }
      const emitEnd = Math.max(cut, last);
      output += text.slice(last, emitEnd);
      pending = text.slice(emitEnd);
      return output;
    },
    flush() {
      const rest = pending;
      pending = '';
      return pattern ? rest.replace(pattern, REDACTED) : rest;
    },
  };
}
