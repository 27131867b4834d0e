import { secretPattern, secretVariants } from '../runtime/secrets/create-redactor.ts';

/**
 * Process-wide set of secret values currently alive (task and end-user secrets), so that the logger
 * and error paths can redact them by value even where the code at hand does not know them.
 */
class SecretRegistry {
  #counts = new Map<string, number>();
  #pattern: RegExp | undefined | null = null;

  /** Registers values; returns a function that unregisters them (idempotent). */
  add(values: Iterable<string>): () => void {
    const variants = secretVariants(values);
    for (const variant of variants) this.#counts.set(variant, (this.#counts.get(variant) ?? 0) + 1);
    this.#pattern = null;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      for (const variant of variants) {
        const count = (this.#counts.get(variant) ?? 1) - 1;
        if (count <= 0) this.#counts.delete(variant);
        else this.#counts.set(variant, count);
      }
      this.#pattern = null;
    };
  }

  redact(text: string): string {
    if (this.#counts.size === 0) return text;
    if (this.#pattern === null) this.#pattern = secretPattern([...this.#counts.keys()].sort((a, b) => b.length - a.length));
    return this.#pattern ? text.replace(this.#pattern, '[REDACTED]') : text;
  }
}

export const secretRegistry = new SecretRegistry();
