import { render } from 'preact';
import { describe, expect, it } from 'vitest';
import { renderMarkdown, toSafeHref } from './markdown.tsx';

const toHtml = (source: string) => {
  const host = document.createElement('div');
  render(<div>{renderMarkdown(source)}</div>, host);
  return host;
};

describe('renderMarkdown', () => {
  it('renders raw HTML as text, never as elements', () => {
    const host = toHtml('<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">');
    expect(host.querySelector('script')).toBeNull();
    expect(host.querySelector('img')).toBeNull();
    expect(host.textContent).toContain('<script>alert(1)</script>');
    expect(host.textContent).toContain('<img src=x onerror="alert(2)">');
  });

  it('drops javascript: and data: links but keeps their text', () => {
    const host = toHtml('[click](javascript:alert(1)) and [data](data:text/html,hi) and [ok](https://example.com/a)');
    const links = host.querySelectorAll('a');
    expect(links).toHaveLength(1);
    expect(links[0]!.getAttribute('href')).toBe('https://example.com/a');
    expect(links[0]!.getAttribute('target')).toBe('_blank');
    expect(links[0]!.getAttribute('rel')).toBe('noopener noreferrer');
    expect(host.textContent).toContain('click');
  });

  it('renders headings, lists, emphasis, inline code and fenced code', () => {
    const host = toHtml('# Title\n\n- **bold** item\n- *em* `code`\n\n1. one\n2. two\n\n```js\nconst a = "<b>";\n```\nend');
    expect(host.querySelector('h3')?.textContent).toBe('Title');
    expect(host.querySelectorAll('ul li')).toHaveLength(2);
    expect(host.querySelector('strong')?.textContent).toBe('bold');
    expect(host.querySelector('em')?.textContent).toBe('em');
    expect(host.querySelector('li code')?.textContent).toBe('code');
    expect(host.querySelectorAll('ol li')).toHaveLength(2);
    expect(host.querySelector('pre code')?.textContent).toBe('const a = "<b>";');
    expect(host.querySelector('pre b')).toBeNull();
  });

  it('keeps intraword underscores inside _emphasis_ when a word like CONCIERGE_MODEL sits in it', () => {
    const host = toHtml('_(set CONCIERGE_MODEL for a real one)_ and snake_case_name stays');
    expect(host.querySelector('em')?.textContent).toBe('(set CONCIERGE_MODEL for a real one)');
    expect(host.querySelectorAll('em')).toHaveLength(1);
    expect(host.textContent).toContain('snake_case_name stays');
  });

  it('treats an unclosed fence as code while a reply is still streaming', () => {
    const host = toHtml('Look:\n```\nline 1\nline 2');
    expect(host.querySelector('pre code')?.textContent).toBe('line 1\nline 2');
  });

  it('links bare https URLs and mailto links', () => {
    const host = toHtml('See https://example.com/docs. Mail [us](mailto:a@example.com)');
    const hrefs = Array.from(host.querySelectorAll('a')).map((a) => a.getAttribute('href'));
    expect(hrefs).toEqual(['https://example.com/docs', 'mailto:a@example.com']);
  });
});

describe('toSafeHref', () => {
  it('allows only http, https and mailto', () => {
    expect(toSafeHref('https://x.test/')).toBe('https://x.test/');
    expect(toSafeHref(' JavaScript:alert(1)')).toBeNull();
    expect(toSafeHref('vbscript:x')).toBeNull();
    expect(toSafeHref('/relative')).toBeNull();
  });
});
