/** Characters of an MCP error shown to users and the model; a failing server can put anything in its errors. */
export const MAX_ERROR_NOTE_CHARS = 300;

/**
 * An MCP failure as a short note safe to show: the error's message (an HTTP server's error body may be in
 * it), redacted first so a cut can never leave half a secret, then cut to `MAX_ERROR_NOTE_CHARS`.
 */
export function toErrorNote(error: unknown, redact: (text: string) => string): string {
  const message = error instanceof Error ? error.message : String(error);
  const text = redact(message).replace(/\s+/g, ' ').trim() || 'unknown error';
  return text.length > MAX_ERROR_NOTE_CHARS ? `${text.slice(0, MAX_ERROR_NOTE_CHARS)}… (truncated)` : text;
}
