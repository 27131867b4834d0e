import { describe, expect, it } from 'vitest';
import { MAX_RECORDED_OUTPUT_CHARS, recordToolOutput, TURN_OUTPUT_BUDGET_CHARS } from './record-tool-output.ts';

describe('recordToolOutput', () => {
  it('keeps an output that fits untouched', () => {
    expect(recordToolOutput('Exit code: 0\n', 0)).toBe('Exit code: 0\n');
  });

  it('cuts one large output at the per-result limit, keeping its head and its end, and says how much was left out', () => {
    const output = `${'x'.repeat(MAX_RECORDED_OUTPUT_CHARS * 4)}\n--- stderr ---\nthe end`;
    const kept = recordToolOutput(output, 0);
    expect(kept.length).toBeLessThanOrEqual(MAX_RECORDED_OUTPUT_CHARS);
    expect(kept.startsWith('x'.repeat(1000))).toBe(true);
    expect(kept.endsWith('\n--- stderr ---\nthe end')).toBe(true);
    const left = Number(/\[… (\d+) more characters not kept\. Write large results to a file/.exec(kept)?.[1]);
    expect(left).toBe(output.length - (kept.length - kept.match(/\n\[…[^\]]*\]\n/)![0].length));
  });

  it('keeps only what is left of the turn budget, then nothing but a note', () => {
    const nearlyUsed = TURN_OUTPUT_BUDGET_CHARS - 10_000;
    expect(recordToolOutput('y'.repeat(50_000), nearlyUsed).length).toBe(10_000);
    expect(recordToolOutput('z'.repeat(50_000), TURN_OUTPUT_BUDGET_CHARS)).toMatch(/^Output not kept: this turn's tool output budget \(2 MB\) is used up/);
    // A short answer still says what happened.
    expect(recordToolOutput('Exit code: 1\n--- stderr ---\nno such file\n', TURN_OUTPUT_BUDGET_CHARS)).toBe('Exit code: 1\n--- stderr ---\nno such file\n');
  });
});
