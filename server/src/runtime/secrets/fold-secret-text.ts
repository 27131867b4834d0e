/**
 * How text is folded before secrets are looked for in it, so that the forms a hostile command can print
 * a secret in without really encoding it still match: letter case is ignored, whitespace and invisible
 * characters between its characters are skipped, backslash escapes (`\u0073`, `\x73`, `\n`, `\"`) and
 * URL escapes (`%73`) stand for the character they name, and terminal colour sequences (`ESC[31m`) are
 * dropped. The same folding is applied to the secrets themselves.
 */

/** Code units that carry nothing visible: whitespace, control characters, zero-width and format marks. */
export function isIgnored(code: number): boolean {
  if (code <= 0x20 || code === 0x7f || code === 0x85 || code === 0xa0 || code === 0xad) return true;
  if (code < 0x1680) return false;
  return (
    code === 0x1680 ||
    code === 0x180e ||
    (code >= 0x2000 && code <= 0x200f) ||
    (code >= 0x2028 && code <= 0x202f) ||
    (code >= 0x205f && code <= 0x2064) ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** Lower case per code unit (only where lower-casing keeps it one code unit). */
const LOWER = (() => {
  const table = new Uint16Array(0x10000);
  for (let code = 0; code < 0x10000; code++) {
    const lower = String.fromCharCode(code).toLowerCase();
    table[code] = lower.length === 1 ? lower.charCodeAt(0) : code;
  }
  return table;
})();

export function foldCase(code: number): number {
  return LOWER[code] as number;
}

/** Escape letters that stand for whitespace or a control character (`\n`, `\t`, …): they fold to nothing. */
const BLANK_ESCAPES = new Set([...'nrtfvb0'].map((letter) => letter.charCodeAt(0)));
const BACKSLASH = 0x5c;
const PERCENT = 0x25;
const ESCAPE = 0x1b;
const BRACKET = 0x5b;
const LETTER_U = 0x75;
const LETTER_X = 0x78;

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** Receives each folded code unit with the original offsets [start, end) of the text it stands for. */
export type FoldedSink = (code: number, start: number, end: number) => void;

/**
 * Folds text fed in pieces (an escape may be split between pieces). Offsets are counted from the first
 * piece. A run of backslashes counts as one (text escaped twice still folds), and a backslash before
 * any other character is dropped.
 */
export class SecretTextFolder {
  #offset = 0;
  /**
   * 0: plain text; 1: after a backslash run; 2: reading the hex digits of `\u`/`\x`; 3: reading the two
   * hex digits after `%`; 4: after ESC; 5: inside a terminal control sequence (`ESC[` … final letter).
   */
  #mode = 0;
  #escapeStart = 0;
  #letter = 0;
  #letterOffset = 0;
  #digitsNeeded = 0;
  #digits: number[] = [];
  #value = 0;

  constructor(private readonly sink: FoldedSink) {}

  /** Where the escape being read began, or undefined when none is open. */
  get openEscapeStart(): number | undefined {
    return this.#mode === 0 ? undefined : this.#escapeStart;
  }

  feed(text: string): void {
    for (let index = 0; index < text.length; index++) this.#take(text.charCodeAt(index), this.#offset + index);
    this.#offset += text.length;
  }

  /** Ends the text: an escape left open is plain text after all. */
  finish(): void {
    if (this.#mode === 2) this.#replayLiteral();
    if (this.#mode === 3) this.#replayPercent();
    this.#mode = 0;
  }

  #emit(code: number, start: number, end: number): void {
    if (!isIgnored(code)) this.sink(foldCase(code), start, end);
  }

  #take(code: number, offset: number): void {
    if (this.#mode === 0) {
      if (code === BACKSLASH || code === PERCENT || code === ESCAPE) {
        this.#mode = code === BACKSLASH ? 1 : code === PERCENT ? 3 : 4;
        this.#escapeStart = offset;
        this.#digits = [];
        this.#value = 0;
      } else this.#emit(code, offset, offset + 1);
      return;
    }
    if (this.#mode === 3) {
      const digit = hexValue(code);
      if (digit < 0) {
        // `%zz`: a plain percent sign after all.
        this.#replayPercent();
        this.#mode = 0;
        this.#take(code, offset);
        return;
      }
      this.#digits.push(code);
      this.#value = this.#value * 16 + digit;
      if (this.#digits.length === 2) {
        this.#mode = 0;
        this.#emit(this.#value, this.#escapeStart, offset + 1);
      }
      return;
    }
    if (this.#mode === 4 || this.#mode === 5) {
      if (this.#mode === 4 && code === BRACKET) this.#mode = 5;
      else if (this.#mode === 5 && code >= 0x20 && code <= 0x3f) return;
      else {
        // ESC (dropped like any control character) then plain text, or the sequence's final letter.
        const final = this.#mode === 5 && code >= 0x40 && code <= 0x7e;
        this.#mode = 0;
        if (!final) this.#take(code, offset);
      }
      return;
    }
    if (this.#mode === 1) {
      if (code === BACKSLASH) return;
      if (code === LETTER_U || code === LETTER_X) {
        this.#mode = 2;
        this.#letter = code;
        this.#letterOffset = offset;
        this.#digitsNeeded = code === LETTER_U ? 4 : 2;
        this.#digits = [];
        this.#value = 0;
        return;
      }
      this.#mode = 0;
      if (!BLANK_ESCAPES.has(code)) this.#emit(code, this.#escapeStart, offset + 1);
      return;
    }
    const digit = hexValue(code);
    if (digit < 0) {
      // `\u12z`: not an escape; its letter and digits are plain text, and so is this character.
      this.#replayLiteral();
      this.#mode = 0;
      this.#take(code, offset);
      return;
    }
    this.#digits.push(code);
    this.#value = this.#value * 16 + digit;
    if (this.#digits.length === this.#digitsNeeded) {
      this.#mode = 0;
      this.#emit(this.#value, this.#escapeStart, offset + 1);
    }
  }

  #replayPercent(): void {
    this.#emit(PERCENT, this.#escapeStart, this.#escapeStart + 1);
    for (const [index, digit] of this.#digits.entries()) this.#emit(digit, this.#escapeStart + 1 + index, this.#escapeStart + 2 + index);
  }

  #replayLiteral(): void {
    this.#emit(this.#letter, this.#escapeStart, this.#letterOffset + 1);
    for (const [index, digit] of this.#digits.entries()) this.#emit(digit, this.#letterOffset + 1 + index, this.#letterOffset + 2 + index);
  }
}

/** The folded code units of a whole text (used for the secrets' own forms). */
export function foldSecretText(text: string): number[] {
  const codes: number[] = [];
  const folder = new SecretTextFolder((code) => codes.push(code));
  folder.feed(text);
  folder.finish();
  return codes;
}
