import { describe, expect, it } from 'vitest';
import { createRedactor } from '../secrets/create-redactor.ts';
import { capToolResult } from './cap-tool-result.ts';

describe('capToolResult', () => {
  it('keeps a short result whole and cuts a long one with a note', () => {
    expect(capToolResult('short', 100)).toBe('short');
    expect(capToolResult('x'.repeat(50), 10)).toBe(`${'x'.repeat(10)}\n(MCP result truncated to the first 10 of 50 bytes)`);
  });

  it('hides the start of a secret that the cut left at the end of the kept text', () => {
    const secret = 'mcp-secret-0123456789';
    const { redactCut } = createRedactor([secret]);
    const capped = capToolResult(`${'x'.repeat(20)}${secret}`, 30, redactCut);
    expect(capped).toBe(`${'x'.repeat(20)}[REDACTED]\n(MCP result truncated to the first 30 of ${20 + secret.length} bytes)`);
  });
});
