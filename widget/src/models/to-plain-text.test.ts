import { describe, expect, it } from 'vitest';
import { toPlainText } from './to-plain-text.ts';

describe('toPlainText', () => {
  it('drops Markdown syntax and keeps the words when a reply has headings, emphasis, code, lists and links', () => {
    const markdown = '### Markdown demo\n\n**Bold** and *italic* and `code`.\n\n- one\n- two\n\n```ts\nconst a = 1;\n```\n\nSee [the README](https://example.com).';
    expect(toPlainText(markdown)).toBe('Markdown demo Bold and italic and code. one two const a = 1; See the README.');
  });

  it('keeps snake_case words and lone asterisks when they are not emphasis', () => {
    expect(toPlainText('Set CONCIERGE_MODEL to 2 * 3')).toBe('Set CONCIERGE_MODEL to 2 * 3');
  });
});
