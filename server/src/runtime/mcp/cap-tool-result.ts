/**
 * Cuts an MCP tool's result to `maxBytes` of UTF-8 (never inside a character) and says so, as the shell's
 * output cap does, so one tool cannot flood the model's context, the event log or the widget.
 * `redactCut` hides a secret whose start the cut left at the end of the kept text.
 */
export function capToolResult(text: string, maxBytes: number, redactCut: (kept: string) => string = (kept) => kept): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) so the cut falls between characters.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return `${redactCut(bytes.subarray(0, end).toString('utf8'))}\n(MCP result truncated to the first ${maxBytes} of ${bytes.length} bytes)`;
}
