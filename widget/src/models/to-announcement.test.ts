import { describe, expect, it } from 'vitest';
import { createTranslator } from '../i18n/translate.ts';
import { type ConversationState, createConversationState } from './conversation-reducer.ts';
import { toAnnouncement } from './to-announcement.ts';

const t = createTranslator('en');
const base = createConversationState();
const reply = (content: string, streaming: boolean) => ({ id: 'msg-2', role: 'assistant' as const, content, createdAt: '', streaming });

describe('toAnnouncement', () => {
  it('announces a finished reply once, as plain text', () => {
    const before: ConversationState = { ...base, phase: 'working', messages: [reply('**Done**: see `a.txt`', true)] };
    const after: ConversationState = { ...base, phase: 'completed', messages: [reply('**Done**: see `a.txt`', false)] };
    expect(toAnnouncement(before, after, t)).toBe('Assistant: Done: see a.txt');
    expect(toAnnouncement(after, after, t)).toBeNull();
  });

  it('announces an approval in words and a retry', () => {
    const call = { callId: 'c1', toolName: 'run_shell_command', status: 'awaiting_approval' as const, args: { command: 'ls' } };
    const waiting: ConversationState = { ...base, phase: 'awaiting_approval', messages: [{ ...reply('', true), toolCalls: [call] }] };
    expect(toAnnouncement({ ...base, phase: 'working' }, waiting, t)).toBe('Your approval is needed: Run a command.');
    expect(toAnnouncement({ ...base, phase: 'working' }, { ...base, phase: 'working', retrying: true }, t)).toBe(t('retrying'));
  });
});
