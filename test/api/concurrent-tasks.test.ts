import { describe, expect, it } from 'vitest';
import { type StreamedEvent, streamedText } from '../support/api-client.ts';
import { createGate, messageText, } from '../support/fake-model.ts';
import { useApiServer } from '../support/use-api-server.ts';

const TASKS = 50;

const ctx = useApiServer();

const answerFor = (index: number) => Array.from({ length: 10 }, (_, chunk) => `t${index}c${chunk} `);

/** What the stream shows of the assistant's answer: replayed partial content plus the live chunks. */
function answerOf(events: StreamedEvent[]): string {
  const replayed = events.filter((event) => event.event === 'history_message' && (event.data as { role: string }).role === 'assistant');
  return replayed.map((event) => (event.data as { content: string }).content).join('') + streamedText(events);
}

describe('50 concurrent tasks', () => {
  it('completes every task and every stream with its own content when 50 tasks run at once', async () => {
    // Every reply waits until all 50 streams are subscribed, so all 50 follow their task live at once.
    const allSubscribed = createGate();
    ctx.fake.scenario('[concurrent]', async (request) => {
      await allSubscribed.promise;
      const index = Number(/task (\d+)/.exec(messageText(request.messages.find((message) => message.role === 'user')))?.[1]);
      return { reasoning: `Task ${index}.`, text: answerFor(index), delayMs: 10 };
    });
    let subscribed = 0;
    const runs = await Promise.all(
      Array.from({ length: TASKS }, async (_, index) => {
        const id = await ctx.api.createTask({ message: `task ${index} [concurrent]` });
        const events = await ctx.api.stream(id, {
          timeoutMs: 60_000,
          until: (event) => {
            if (event.event === 'history_done' && ++subscribed === TASKS) allSubscribed.open();
            return false;
          },
        });
        return { index, id, events };
      }),
    );
    expect(new Set(runs.map((run) => run.id)).size).toBe(TASKS);
    for (const { index, events } of runs) {
      const expected = answerFor(index).join('');
      expect(events.find((event) => event.event === 'history_done')?.data).toEqual({ messageCount: 1, isStreaming: true });
      expect(events.at(-1), `task ${index}`).toEqual({ event: 'done', data: { finalResponse: expected }, id: expect.any(String) });
      expect(answerOf(events), `task ${index}`).toBe(expected);
      // No event of another task leaked into this stream.
      expect(JSON.stringify(events)).not.toMatch(new RegExp(`t(?!${index}c)\\d+c\\d`));
    }
    const list = await ctx.api.call('GET', '/tasks?limit=100');
    expect(list.body.pagination.total).toBe(TASKS);
    expect(list.body.data.every((task: { status: string }) => task.status === 'completed')).toBe(true);
  });
});
