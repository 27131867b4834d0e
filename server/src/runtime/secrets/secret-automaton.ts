/**
 * A multi-pattern matcher over UTF-16 code units (Aho–Corasick): one pass over the text finds every
 * pattern, in time linear in the text, however many patterns there are. Built once per set of secrets.
 */
export class SecretAutomaton {
  readonly #next: Map<number, number>[] = [new Map()];
  readonly #fail: number[] = [0];
  readonly #depth: number[] = [0];
  /** Length of the longest pattern ending at each state, itself or through its failure links (0: none). */
  readonly #matched: number[] = [0];
  /** The start state's transitions as a table: most steps of ordinary text begin (and end) there. */
  readonly #fromStart: Int32Array;
  /** Length of the longest pattern. */
  readonly maxLength: number;

  constructor(patterns: Iterable<ArrayLike<number>>) {
    let maxLength = 0;
    for (const pattern of patterns) {
      if (pattern.length === 0) continue;
      let state = 0;
      for (let index = 0; index < pattern.length; index++) {
        const code = pattern[index] as number;
        let child = this.#next[state]?.get(code);
        if (child === undefined) {
          child = this.#next.length;
          this.#next.push(new Map());
          this.#fail.push(0);
          this.#depth.push(index + 1);
          this.#matched.push(0);
          this.#next[state]?.set(code, child);
        }
        state = child;
      }
      this.#matched[state] = pattern.length;
      maxLength = Math.max(maxLength, pattern.length);
    }
    this.maxLength = maxLength;
    // 256 KiB per automaton with patterns; an empty one (no short secrets, say) needs none.
    this.#fromStart = new Int32Array(maxLength > 0 ? 0x10000 : 0);
    for (const [code, child] of this.#next[0] ?? []) this.#fromStart[code] = child;
    // Failure links breadth first: a state's link points to the longest proper suffix that is also a prefix.
    const queue: number[] = [...(this.#next[0]?.values() ?? [])];
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      for (const [code, child] of this.#next[state] ?? []) {
        this.#fail[child] = this.step(this.#fail[state] as number, code);
        this.#matched[child] = Math.max(this.#matched[child] as number, this.#matched[this.#fail[child] as number] as number);
        queue.push(child);
      }
    }
  }

  /** True when there is nothing to find. */
  get empty(): boolean {
    return this.maxLength === 0;
  }

  /** The state after reading `code` in `state` (0 is the start). */
  step(state: number, code: number): number {
    let current = state;
    while (current !== 0) {
      const child = this.#next[current]?.get(code);
      if (child !== undefined) return child;
      current = this.#fail[current] as number;
    }
    return this.#fromStart[code] ?? 0;
  }

  /** How many of the last code units read may still begin a pattern. */
  depth(state: number): number {
    return this.#depth[state] as number;
  }

  /** Length of the longest pattern that ends with the code unit just read, 0 for none. */
  matched(state: number): number {
    return this.#matched[state] as number;
  }
}
