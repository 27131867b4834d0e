import { MIN_CUT_PREFIX_LENGTH, type SecretMatchers } from './secret-forms.ts';
import { addSpan, SecretScanner, type Span } from './secret-scanner.ts';

/** Both scanners of a set of matchers, fed the same text. */
export class SecretSearch {
  readonly #scanners: SecretScanner[];

  constructor(matchers: SecretMatchers) {
    this.#scanners = [];
    if (!matchers.folded.empty) this.#scanners.push(new SecretScanner(matchers.folded, true));
    if (!matchers.exact.empty) this.#scanners.push(new SecretScanner(matchers.exact, false));
  }

  feed(text: string): void {
    for (const scanner of this.#scanners) scanner.feed(text);
  }

  finish(): void {
    for (const scanner of this.#scanners) scanner.finish();
  }

  /** Moves the spans found so far into `into` (sorted, merged). */
  takeSpans(into: Span[]): void {
    for (const scanner of this.#scanners) {
      for (const span of scanner.spans) addSpan(into, span);
      scanner.spans = [];
    }
  }

  /** The original offset before which no later match can start. */
  get settledOffset(): number {
    let settled = Number.POSITIVE_INFINITY;
    for (const scanner of this.#scanners) settled = Math.min(settled, scanner.settledOffset);
    return settled;
  }

  /** The span to hide when the text is cut where it now ends (a tail that begins a secret form). */
  cutSpan(end: number): Span | undefined {
    const starts = this.#scanners.map((scanner) => scanner.openPrefixStart(MIN_CUT_PREFIX_LENGTH)).filter((start) => start !== undefined);
    return starts.length > 0 ? { start: Math.min(...starts), end } : undefined;
  }
}

/** The spans of `text` that hold a secret form; with `cut`, also a tail that begins one (the text was cut there). */
export function findSecretSpans(matchers: SecretMatchers, text: string, cut = false): Span[] {
  const search = new SecretSearch(matchers);
  search.feed(text);
  search.finish();
  const spans: Span[] = [];
  search.takeSpans(spans);
  const tail = cut ? search.cutSpan(text.length) : undefined;
  if (tail) addSpan(spans, tail);
  return spans;
}

/** `text` with each span replaced by `replacement`. */
export function applySpans(text: string, spans: readonly Span[], replacement: string): string {
  if (spans.length === 0) return text;
  let output = '';
  let last = 0;
  for (const span of spans) {
    output += text.slice(last, span.start) + replacement;
    last = span.end;
  }
  return output + text.slice(last);
}
