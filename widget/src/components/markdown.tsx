import type { ComponentChildren, VNode } from 'preact';
import { ScrollablePre } from './scrollable-pre.tsx';

/**
 * A small Markdown subset rendered to Preact vnodes: paragraphs, headings, lists, block quotes,
 * fenced code, inline code, emphasis and links. Text only ever becomes text nodes; there is no
 * HTML pass-through, so `<script>` or `<img onerror>` from the model shows as literal text.
 */

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** The href to use for a link target, or null when it is not http(s) or mailto. */
export function toSafeHref(raw: string): string | null {
  try {
    const url = new URL(raw.trim());
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

const INLINE =
  /`([^`\n]+)`|\[([^\]\n]+)\]\(([^()\s]+)\)|\*\*(?=\S)([^*\n]+?)\*\*|__(?=\S)([^_\n]+?)__|\*(?=\S)([^*\n]+?)\*|(?<![\p{L}\p{N}])_(?=\S)((?:[^_\n]|_(?=[\p{L}\p{N}]))+?)(?<=\S)_(?![\p{L}\p{N}])|~~(?=\S)([^~\n]+?)~~|\b(https?:\/\/[^\s<>"]*[^\s<>".,:;!?)\]'])/gu;

function link(href: string | null, children: ComponentChildren, key: number): VNode | ComponentChildren {
  if (!href) return children;
  return (
    <a key={key} href={href} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  );
}

/** Inline Markdown of one block to vnodes. */
export function renderInline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let last = 0;
  let key = 0;
  const pushText = (value: string) => {
    // Line breaks inside a paragraph are kept: chat replies rely on them.
    const lines = value.split('\n');
    lines.forEach((line, index) => {
      if (index > 0) out.push(<br key={`b${key++}`} />);
      if (line) out.push(line);
    });
  };
  for (const match of text.matchAll(INLINE)) {
    const index = match.index ?? 0;
    if (index > last) pushText(text.slice(last, index));
    last = index + match[0].length;
    key += 1;
    const [, code, linkText, linkHref, strong1, strong2, em1, em2, strike, bare] = match;
    if (code !== undefined) out.push(<code key={key}>{code}</code>);
    else if (linkText !== undefined) out.push(link(toSafeHref(linkHref!), renderInline(linkText), key));
    else if (strong1 !== undefined || strong2 !== undefined)
      out.push(<strong key={key}>{renderInline((strong1 ?? strong2)!)}</strong>);
    else if (em1 !== undefined || em2 !== undefined) out.push(<em key={key}>{renderInline((em1 ?? em2)!)}</em>);
    else if (strike !== undefined) out.push(<del key={key}>{renderInline(strike)}</del>);
    else if (bare !== undefined) out.push(link(toSafeHref(bare), bare, key));
  }
  if (last < text.length) pushText(text.slice(last));
  return out;
}

const FENCE = /^ {0,3}(```|~~~)\s*([\w+-]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const ORDERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^\s*>\s?(.*)$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;

/** Block Markdown to vnodes; an unclosed fence (mid-stream) renders as code up to the end. */
export function renderMarkdown(source: string): VNode[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: VNode[] = [];
  let i = 0;
  let key = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    key += 1;
    if (!line.trim()) {
      i += 1;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const body: string[] = [];
      i += 1;
      while (i < lines.length && !lines[i]!.trimStart().startsWith(fence[1]!)) body.push(lines[i++]!);
      i += 1;
      blocks.push(
        <ScrollablePre key={key}>
          <code data-language={fence[2] || undefined}>{body.join('\n')}</code>
        </ScrollablePre>,
      );
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      // Headings inside a chat message are demoted so they never outrank the widget's own title.
      const level = Math.min(heading[1]!.length + 2, 6);
      const Tag = `h${level}` as 'h3';
      blocks.push(<Tag key={key}>{renderInline(heading[2]!)}</Tag>);
      i += 1;
      continue;
    }
    if (RULE.test(line)) {
      blocks.push(<hr key={key} />);
      i += 1;
      continue;
    }
    const ordered = ORDERED.exec(line);
    if (BULLET.test(line) || ordered) {
      const pattern = ordered ? ORDERED : BULLET;
      const items: string[] = [];
      while (i < lines.length) {
        const current = lines[i]!;
        const item = pattern.exec(current);
        if (item) items.push(item[ordered ? 2 : 1]!);
        else if (current.trim() && /^\s{2,}/.test(current) && items.length) items[items.length - 1] += `\n${current.trim()}`;
        else break;
        i += 1;
      }
      const children = items.map((item, index) => <li key={index}>{renderInline(item)}</li>);
      const start = ordered ? Number(ordered[1]) : 1;
      blocks.push(
        ordered ? (
          <ol key={key} start={start === 1 ? undefined : start}>
            {children}
          </ol>
        ) : (
          <ul key={key}>{children}</ul>
        ),
      );
      continue;
    }
    if (QUOTE.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i]!)) quoted.push(QUOTE.exec(lines[i++]!)![1]!);
      blocks.push(<blockquote key={key}>{renderMarkdown(quoted.join('\n'))}</blockquote>);
      continue;
    }
    const paragraph: string[] = [];
    while (i < lines.length) {
      const current = lines[i]!;
      if (!current.trim() || FENCE.test(current) || HEADING.test(current) || QUOTE.test(current)) break;
      if (paragraph.length && (BULLET.test(current) || ORDERED.test(current))) break;
      paragraph.push(current);
      i += 1;
    }
    if (!paragraph.length) paragraph.push(lines[i++]!);
    blocks.push(<p key={key}>{renderInline(paragraph.join('\n'))}</p>);
  }
  return blocks;
}
