import { createRedactor, type Redactor } from '../runtime/secrets/create-redactor.ts';

/**
 * Process-wide set of secret values currently alive (task and end-user secrets), so that the logger
 * and error paths can redact them by value even where the code at hand does not know them.
 */
class SecretRegistry {
  #counts = new Map<string, number>();
  /** Rebuilt lazily after the set changes (building is linear in the secrets' total length). */
  #redactor: Redactor | null = null;

  /** Registers values; returns a function that unregisters them (idempotent). */
  add(values: Iterable<string>): () => void {
    const added = [...new Set(values)].filter((value) => typeof value === 'string');
    for (const value of added) this.#counts.set(value, (this.#counts.get(value) ?? 0) + 1);
    this.#redactor = null;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      for (const value of added) {
        const count = (this.#counts.get(value) ?? 1) - 1;
        if (count <= 0) this.#counts.delete(value);
        else this.#counts.set(value, count);
      }
      this.#redactor = null;
    };
  }

  redact(text: string): string {
    if (this.#counts.size === 0) return text;
    this.#redactor ??= createRedactor([...this.#counts.keys()]);
    return this.#redactor.redact(text);
  }
}

export const secretRegistry = new SecretRegistry();
