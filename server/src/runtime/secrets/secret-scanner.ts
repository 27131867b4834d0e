import { SecretTextFolder } from './fold-secret-text.ts';
import type { SecretAutomaton } from './secret-automaton.ts';

/** A range [start, end) of original text offsets to hide. */
export interface Span {
  start: number;
  end: number;
}

/** Adds a span to a list sorted by start, merging overlapping spans (touching ones stay two). */
export function addSpan(spans: Span[], span: Span): void {
  let { start, end } = span;
  // New spans almost always land at the end: merge backwards from there.
  let index = spans.length;
  while (index > 0 && (spans[index - 1] as Span).end > start) {
    const previous = spans[index - 1] as Span;
    if (previous.start >= end) {
      index--;
      continue;
    }
    start = Math.min(start, previous.start);
    end = Math.max(end, previous.end);
    spans.splice(index - 1, 1);
    index--;
  }
  spans.splice(index, 0, { start, end });
}

/**
 * Runs one automaton over text fed in pieces, either folded (case, whitespace, escapes: see
 * fold-secret-text.ts) or exactly as written, and collects the spans of original text that matched.
 */
export class SecretScanner {
  /** Spans found so far, sorted; the owner may take them away. */
  spans: Span[] = [];
  #state = 0;
  #count = 0;
  #fed = 0;
  /** Original start offset of each of the last `maxLength` scanned code units. */
  readonly #starts: Float64Array;
  readonly #folder: SecretTextFolder | undefined;

  constructor(
    private readonly automaton: SecretAutomaton,
    folded: boolean,
  ) {
    this.#starts = new Float64Array(automaton.maxLength + 1);
    this.#folder = folded ? new SecretTextFolder((code, start, end) => this.#scan(code, start, end)) : undefined;
  }

  feed(text: string): void {
    if (this.#folder) this.#folder.feed(text);
    else for (let index = 0; index < text.length; index++) this.#scan(text.charCodeAt(index), this.#fed + index, this.#fed + index + 1);
    this.#fed += text.length;
  }

  /** Ends the text (an open escape is plain text after all). */
  finish(): void {
    this.#folder?.finish();
  }

  /** The original offset before which no later match can start: what lies before it is final. */
  get settledOffset(): number {
    const depth = this.automaton.depth(this.#state);
    if (depth > 0) return this.#startOf(depth);
    return this.#folder?.openEscapeStart ?? this.#fed;
  }

  /**
   * Where the text's tail begins when that tail (at least `minLength` scanned code units) is the start of
   * some pattern: the place to hide when the text was cut there.
   */
  openPrefixStart(minLength: number): number | undefined {
    const depth = this.automaton.depth(this.#state);
    return depth >= Math.max(1, minLength) ? this.#startOf(depth) : undefined;
  }

  /** Original start of the code unit `back` units before the end of what was scanned (1: the last one). */
  #startOf(back: number): number {
    return this.#starts[(this.#count - back) % this.#starts.length] as number;
  }

  #scan(code: number, start: number, end: number): void {
    this.#state = this.automaton.step(this.#state, code);
    this.#starts[this.#count % this.#starts.length] = start;
    this.#count++;
    const matched = this.automaton.matched(this.#state);
    if (matched > 0) addSpan(this.spans, { start: this.#startOf(matched), end });
  }
}
