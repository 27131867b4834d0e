import { describe, expect, it } from 'vitest';
import { createSseParser, encodeSseEvent, type SseMessage } from './sse.ts';

describe('encodeSseEvent', () => {
  it('writes event, one single-line data line, then id last', () => {
    const frame = encodeSseEvent('content', { text: 'a\nb', isPartial: true }, 7);
    expect(frame).toBe('event: content\ndata: {"text":"a\\nb","isPartial":true}\nid: 7\n\n');
    const lines = frame.split('\n\n')[0]!.split('\n');
    expect(lines[0]).toBe('event: content');
    expect(lines[1]!.startsWith('data: ')).toBe(true);
  });

  it('omits the id line when no sequence is given', () => {
    expect(encodeSseEvent('history_done', { messageCount: 0, isStreaming: false })).toBe(
      'event: history_done\ndata: {"messageCount":0,"isStreaming":false}\n\n',
    );
  });
});

describe('createSseParser', () => {
  it('parses events split across arbitrary chunks and skips heartbeats', () => {
    const messages: SseMessage[] = [];
    const parser = createSseParser((message) => messages.push(message));
    const text = `:heartbeat\n\n${encodeSseEvent('status', { status: 'processing' }, 1)}${encodeSseEvent('done', { finalResponse: 'ok' }, 2)}`;
    for (let i = 0; i < text.length; i += 3) parser.feed(text.slice(i, i + 3));
    expect(messages).toEqual([
      { event: 'status', data: '{"status":"processing"}', id: '1' },
      { event: 'done', data: '{"finalResponse":"ok"}', id: '2' },
    ]);
  });

  it('accepts CRLF line endings', () => {
    const messages: SseMessage[] = [];
    createSseParser((message) => messages.push(message)).feed('event: x\r\ndata: {}\r\n\r\n');
    expect(messages).toEqual([{ event: 'x', data: '{}' }]);
  });
});
