import { REDACTED, secretVariants } from '../runtime/secrets/secret-forms.ts';

/** Values shorter than this are never looked for in log lines and error messages. */
export const MIN_REGISTERED_SECRET_LENGTH = 8;
const KEY_LENGTH = MIN_REGISTERED_SECRET_LENGTH;

/**
 * Whether a value is scrubbed server-wide. Anyone who creates a task chooses its secrets, so a word or
 * a phrase ("info", "not found", "Unsupported") would let one visitor shred every tenant's logs and
 * errors: only token-like values are, 8+ characters without whitespace holding both letters and
 * digits (API keys, tokens, generated passwords). Every value is still redacted from its own task's
 * output by the task's redactor.
 */
export function isRegistrableSecret(value: string): boolean {
  return value.length >= MIN_REGISTERED_SECRET_LENGTH && !/\s/.test(value) && /\p{L}/u.test(value) && /\p{N}/u.test(value);
}

/**
 * Process-wide set of secret values currently alive (task and end-user secrets), so that the logger
 * and error paths can redact them by value even where the code at hand does not know them. Exact forms
 * only (the value, base64, hex, JSON-escaped), indexed by their first characters: adding a task's
 * secrets costs a few map entries, never a rebuild over every live secret.
 */
export class SecretRegistry {
  /** First KEY_LENGTH characters of a form → the forms starting with them, with reference counts. */
  #index = new Map<string, Map<string, number>>();

  /** Registers values; returns a function that unregisters them (idempotent). */
  add(values: Iterable<string>): () => void {
    const forms = secretVariants([...new Set(values)].filter((value) => typeof value === 'string' && isRegistrableSecret(value))).filter(
      (form) => form.length >= KEY_LENGTH,
    );
    for (const form of forms) {
      const key = form.slice(0, KEY_LENGTH);
      const bucket = this.#index.get(key) ?? new Map<string, number>();
      bucket.set(form, (bucket.get(form) ?? 0) + 1);
      this.#index.set(key, bucket);
    }
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      for (const form of forms) {
        const key = form.slice(0, KEY_LENGTH);
        const bucket = this.#index.get(key);
        if (!bucket) continue;
        const count = (bucket.get(form) ?? 1) - 1;
        if (count > 0) bucket.set(form, count);
        else bucket.delete(form);
        if (bucket.size === 0) this.#index.delete(key);
      }
    };
  }

  /** Whether any value is registered (lets callers skip work). */
  get isEmpty(): boolean {
    return this.#index.size === 0;
  }

  redact(text: string): string {
    if (this.#index.size === 0 || text.length < KEY_LENGTH) return text;
    let out = '';
    let copied = 0;
    for (let at = 0; at + KEY_LENGTH <= text.length; ) {
      const bucket = this.#index.get(text.slice(at, at + KEY_LENGTH));
      let longest = 0;
      if (bucket) for (const form of bucket.keys()) if (form.length > longest && text.startsWith(form, at)) longest = form.length;
      if (longest === 0) {
        at += 1;
        continue;
      }
      out += text.slice(copied, at) + REDACTED;
      at += longest;
      copied = at;
    }
    return copied === 0 ? text : out + text.slice(copied);
  }
}

export const secretRegistry = new SecretRegistry();
