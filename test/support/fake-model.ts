import {
  type FakeChatMessage,
  type FakeChatRequest,
  type FakeOpenAIServer,
  type FakeReply,
  fakeReplyFromPrompt,
  startFakeOpenAIServer,
} from '../../server/src/testing/fake-openai-server.ts';

export type { FakeChatMessage, FakeChatRequest, FakeReply };

/** Answers one model request; `index` counts this scenario's requests from 0. */
export type ScenarioReply = (request: FakeChatRequest, index: number) => FakeReply | Promise<FakeReply>;

/** A fake OpenAI-compatible server whose replies are chosen per test by a marker in the first user message. */
export interface FakeModel {
  url: string;
  server: FakeOpenAIServer;
  /** Replies to requests whose first user message contains `marker` (else the default prompt rules answer). */
  scenario(marker: string, reply: ScenarioReply): void;
  /** Requests received for a marker, oldest first. */
  requestsFor(marker: string): FakeChatRequest[];
  close(): Promise<void>;
}

/** The text of a chat message whatever its content shape. */
export function messageText(message: FakeChatMessage | undefined): string {
  const content = message?.content;
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => part.text ?? '').join('\n');
}

function firstUserText(request: FakeChatRequest): string {
  return messageText(request.messages.find((message) => message.role === 'user'));
}

/** Starts the fake model; unmatched requests get `fakeReplyFromPrompt` (the scripted triggers). */
export async function startFakeModel(): Promise<FakeModel> {
  const scenarios = new Map<string, { reply: ScenarioReply; count: number }>();
  const server = await startFakeOpenAIServer({
    reply: (request) => {
      const text = firstUserText(request);
      for (const [marker, scenario] of scenarios) {
        if (text.includes(marker)) return scenario.reply(request, scenario.count++);
      }
      return fakeReplyFromPrompt(request);
    },
  });
  return {
    url: server.url,
    server,
    scenario(marker, reply) {
      scenarios.set(marker, { reply, count: 0 });
    },
    requestsFor: (marker) => server.requests.filter((request) => firstUserText(request).includes(marker)),
    close: () => server.close(),
  };
}

/** A promise with its resolve function, to hold a fake reply until the test lets it go. */
export function createGate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
