import { describe, expect, it } from 'vitest';
import { createWhatwgSseParser, type WhatwgSseEvent } from './whatwg-sse-parser.ts';

function parse(chunks: string[]) {
  const events: WhatwgSseEvent[] = [];
  const parser = createWhatwgSseParser((event) => events.push(event));
  for (const chunk of chunks) parser.feed(chunk);
  return { events, parser };
}

describe('createWhatwgSseParser', () => {
  it('reads CRLF, CR and LF line ends, also when a CRLF is split across chunks', () => {
    const { events } = parse(['\uFEFFevent: a\r\ndata: 1\r', '\n\r\nevent: b\rdata: 2\r\rdata: 3\n\n']);
    expect(events.map((event) => [event.type, event.data])).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['message', '3'],
    ]);
  });

  it('skips comments, joins data lines, keeps the last event id across events and reads retry digits only', () => {
    const { events, parser } = parse([':heartbeat\n\ndata: x\ndata:y\nid: 7\n\ndata: z\n\nretry: 2s\n\nretry: 1500\nid\n\n']);
    expect(events).toEqual([
      { type: 'message', data: 'x\ny', lastEventId: '7' },
      { type: 'message', data: 'z', lastEventId: '7' },
    ]);
    expect(parser.retryMs).toBe(1500);
    // `id` without a value resets the buffer; an event with no data is not dispatched.
    expect(parser.lastEventId).toBe('');
  });

  it('discards an event the stream did not terminate with a blank line', () => {
    expect(parse(['data: whole\n\ndata: cut']).events.map((event) => event.data)).toEqual(['whole']);
  });
});
